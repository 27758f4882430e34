import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import SluiceAPI
import SluiceCore

/// Why a call to the controller failed, in one line for people.
public enum ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The controller answered with an error.
    case api(status: Int, code: String, message: String)
    /// The controller could not be reached at all.
    case unreachable(String)
    /// The controller answered something that is not the API's JSON.
    case badResponse(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .api(let status, let code, let message): "controller refused (\(status) \(code)): \(message)"
        case .unreachable(let m), .badResponse(let m), .invalidArgument(let m): m
        }
    }
}

/// How a client checks the controller over https, and proves its own identity for mutual TLS.
public struct ClientTLS: Sendable, Equatable {
    /// The private CA (PEM) the controller's certificate must chain to; the system's trust
    /// store when nil.
    public var caFile: String?
    /// The host's client certificate and key (PEM text), for controllers that require mutual TLS.
    public var certificatePEM: String?
    public var keyPEM: String?

    public init(caFile: String? = nil, certificatePEM: String? = nil, keyPEM: String? = nil) {
        self.caFile = caFile
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
    }
}

/// The typed client of the `/v1` API, used by the agent and by sluicectl.
public struct SluiceHTTPClient: Sendable {
    public let baseURL: URL
    public let token: String?
    let timeout: TimeInterval
    let tlsConfiguration: TLSConfiguration?

    /// One connection pool for every client of the process: simulated fleets run thousands
    /// of agents, each with its own long poll. Redirects are never followed: a credential
    /// goes to the controller it was given for and nowhere else. A connection that cannot be
    /// made (refused, or a TLS handshake failing) fails the request at once with its reason;
    /// the agent's own loop does the retrying.
    static let http: HTTPClient = {
        var pool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 20_000)
        pool.retryConnectionEstablishment = false
        return HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)), connectionPool: pool))
    }()

    /// - Parameters:
    ///   - controller: `https://host:port`, or `http://` to a loopback address, without a path.
    ///   - token: sent as `Authorization: Bearer`.
    ///   - timeout: per request, seconds.
    ///   - tls: the CA to verify the controller against, and a client certificate if any.
    public init(controller: String, token: String?, timeout: TimeInterval = 30, tls: ClientTLS = ClientTLS()) throws(ClientError) {
        guard let url = URL(string: controller), let scheme = url.scheme, ["http", "https"].contains(scheme), let host = url.host, !host.isEmpty,
            url.path.isEmpty || url.path == "/", url.query == nil, url.user == nil
        else {
            throw ClientError.invalidArgument("invalid controller URL \(quoted(controller)): expected https://HOST:PORT")
        }
        if scheme == "http" && !Self.isLoopback(host) {
            throw ClientError.invalidArgument(
                "refusing plain HTTP to \(host): credentials would cross the network unencrypted; use https:// (see `sluiced tls init`)")
        }
        self.baseURL = url
        self.token = token
        self.timeout = timeout
        self.tlsConfiguration = scheme == "https" ? try Self.configuration(tls) : nil
    }

    static func isLoopback(_ host: String) -> Bool {
        Loopback.contains(host)
    }

    static func configuration(_ tls: ClientTLS) throws(ClientError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        do {
            if let caFile = tls.caFile {
                let roots = try NIOSSLCertificate.fromPEMFile(caFile)
                guard !roots.isEmpty else { throw ClientError.invalidArgument("the CA file \(caFile) holds no certificate") }
                configuration.trustRoots = .certificates(roots)
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError.invalidArgument("cannot read the CA file \(tls.caFile ?? ""): \(error)")
        }
        if let certificatePEM = tls.certificatePEM, let keyPEM = tls.keyPEM {
            do {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
            } catch {
                throw ClientError.invalidArgument("the saved client certificate or its key cannot be read: \(error)")
            }
        }
        return configuration
    }

    public func health() async throws -> HealthResponse { try await send("GET", "/v1/health") }

    public func enroll(_ request: EnrollRequest) async throws -> EnrollResponse { try await send("POST", "/v1/enroll", body: request) }

    public func reportInventory(host: HostID, _ report: InventoryReport) async throws -> ReportAccepted {
        try await send("PUT", "/v1/hosts/\(host)/inventory", body: report)
    }

    /// Tells the controller the host's inventory is still the one it last accepted, by its
    /// digest, instead of sending the report again.
    /// - Returns: `.differs` when the controller holds another inventory or none (its 409
    ///   `inventory_differs`), or does not know the route (a 404 or 405 from a controller older
    ///   than it): send the full report with `reportInventory`.
    public func confirmInventory(host: HostID, _ confirmation: InventoryConfirmation) async throws -> InventoryConfirmationOutcome {
        do {
            return .accepted(try await send("PUT", "/v1/hosts/\(host)/inventory/digest", body: confirmation))
        } catch ClientError.api(status: 409, let code, _) where code == InventoryConfirmation.differsCode {
            return .differs
        } catch ClientError.api(status: 404, _, _), ClientError.api(status: 405, _, _) {
            return .differs
        }
    }

    public func listHosts() async throws -> HostList { try await send("GET", "/v1/hosts") }

    public func host(_ id: HostID) async throws -> HostDetail { try await send("GET", "/v1/hosts/\(id)") }

    public func updates() async throws -> UpdateList { try await send("GET", "/v1/updates") }

    public func createToken(_ request: CreateTokenRequest) async throws -> TokenResponse { try await send("POST", "/v1/tokens", body: request) }

    public func createEnrollmentToken(_ request: CreateEnrollmentTokenRequest) async throws -> TokenResponse {
        try await send("POST", "/v1/enrollment-tokens", body: request)
    }

    struct NoBody: Encodable {}

    func send<Response: Decodable>(_ method: String, _ path: String, query: [URLQueryItem] = []) async throws -> Response {
        try await send(method, path, body: Optional<NoBody>.none, query: query)
    }

    /// The largest answer accepted: an inventory or an audit page is far smaller.
    static let maxResponseBytes = 64 << 20

    func send<Body: Encodable, Response: Decodable>(
        _ method: String, _ path: String, body: Body?, query: [URLQueryItem] = []
    ) async throws -> Response {
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty { components.queryItems = query }
        var request = HTTPClientRequest(url: components.url!.absoluteString)
        request.method = HTTPMethod(rawValue: method)
        request.tlsConfiguration = tlsConfiguration
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "sluice/\(SluiceVersion.current)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        let status: Int
        let data: Data
        do {
            let response = try await Self.http.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            status = Int(response.status.code)
            data = Data(buffer: try await response.body.collect(upTo: Self.maxResponseBytes))
        } catch {
            // Stopped by its caller (the agent shutting down mid long-poll): not a controller fault.
            if Task.isCancelled { throw CancellationError() }
            throw ClientError.unreachable("cannot reach the controller at \(baseURL.absoluteString): \(Self.describe(error, host: baseURL.host ?? "this address"))")
        }
        guard (200..<300).contains(status) else {
            if let error = try? JSONDecoder().decode(ErrorResponse.self, from: data) {
                throw ClientError.api(status: status, code: error.error.code, message: error.error.message)
            }
            throw ClientError.api(status: status, code: "http_\(status)", message: "the controller answered \(status) without details")
        }
        do {
            return try JSONDecoder().decode(Response.self, from: data)
        } catch {
            throw ClientError.badResponse("unexpected answer from \(method) \(path): \(error)")
        }
    }

    /// One line for a transport failure, TLS ones named as such.
    static func describe(_ error: any Error, host: String) -> String {
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "TLS failed: the controller's certificate does not name \(host); connect by a name it was issued for (sluiced tls init --name)"
        }
        if let error = error as? NIOSSLError {
            let text = String(describing: error)
            let reason = text.contains("CERTIFICATE_VERIFY_FAILED") ? "the controller's certificate was not accepted" : text
            return "TLS failed: \(reason); check that it is signed by the CA given (--ca-file, controller_ca), not expired, and names this address"
        }
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded { return "no answer within the timeout" }
            if error == .connectTimeout { return "connection timed out" }
            if error == .remoteConnectionClosed { return "the connection was closed (a TLS or plain-HTTP mismatch, or the controller refused this client's certificate)" }
        }
        return String(describing: error)
    }
}
