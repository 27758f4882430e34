import NIOCore
import NIOSSL
import SluiceCore
import SluiceTLS

/// Mutual TLS for agent routes: the connection's client certificate, already verified
/// against the CA by the TLS handshake, must name the host the token belongs to. A stolen
/// host token alone is then not enough to act as that host.
enum ClientCertificateCheck {
    static func require(host: HostID, on channel: any Channel) async throws {
        let certificate: NIOSSLCertificate?
        do {
            certificate = try await channel.nioSSL_peerCertificate().get()
        } catch {
            certificate = nil
        }
        guard let certificate else {
            throw APIError.unauthenticated("this controller requires the host's client certificate (mutual TLS); re-enroll the agent over https")
        }
        let name = (try? certificate.toDERBytes()).flatMap { commonName(ofCertificateDER: $0) }
        guard name == host.rawValue else {
            throw APIError.forbidden("the client certificate names \(name.map { "host \"\($0)\"" } ?? "no host"), not \(host)")
        }
    }
}
