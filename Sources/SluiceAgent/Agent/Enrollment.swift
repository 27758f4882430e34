import SluiceAPI
import SluiceClient
import SluiceCore
import SluiceTLS

/// Enrolling a host: one request with a bootstrap token, answered by the host's own secret
/// and, over https, a client certificate for a key made here that never leaves the host.
public enum Enrollment {
    /// Enrolls with the controller and returns the host's credentials; saves nothing.
    /// - Parameters:
    ///   - controller: the controller's URL.
    ///   - token: the enrollment token.
    ///   - hostID: the host's id.
    ///   - labels: the labels the host enrolls with.
    ///   - controllerCA: the controller's private CA (PEM file), or `nil` for the system's trust store.
    /// - Throws: ``InvalidInput`` for bad labels or URL, or the client's error when the controller refuses or cannot be reached.
    public static func enroll(controller: String, token: String, hostID: HostID, labels: [String: String], controllerCA: String?) async throws
        -> AgentCredentials
    {
        let labels = try Labels(validating: labels)
        let client = try SluiceHTTPClient(controller: controller, token: token, tls: ClientTLS(caFile: controllerCA))
        // A controller without the CA key ignores the certificate request.
        let request = controller.hasPrefix("https://") ? try ClientCertificateRequest(host: hostID) : nil
        let response = try await client.enroll(EnrollRequest(hostID: hostID, labels: labels, clientCertificateRequest: request?.requestPEM))
        return AgentCredentials(
            controller: controller, hostID: response.hostID, token: response.token, clientCertificate: response.clientCertificate,
            clientKey: response.clientCertificate == nil ? nil : request?.privateKeyPEM)
    }
}
