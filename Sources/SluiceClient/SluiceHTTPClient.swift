import Foundation
import SluiceAPI
import SluiceCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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

/// The typed client of the `/v1` API, used by the agent and by sluicectl.
public struct SluiceHTTPClient: Sendable {
    public let baseURL: URL
    public let token: String?
    let session: URLSession

    /// - Parameters:
    ///   - controller: `http://host:port` (or https), without a path.
    ///   - token: sent as `Authorization: Bearer`.
    ///   - timeout: per request, seconds.
    public init(controller: String, token: String?, timeout: TimeInterval = 30) throws(ClientError) {
        guard let url = URL(string: controller), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil,
            url.path.isEmpty || url.path == "/", url.query == nil
        else {
            throw ClientError.invalidArgument("invalid controller URL \(quoted(controller)): expected http(s)://HOST:PORT")
        }
        self.baseURL = url
        self.token = token
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        self.session = URLSession(configuration: configuration)
    }

    public func health() async throws -> HealthResponse { try await send("GET", "/v1/health") }

    public func enroll(_ request: EnrollRequest) async throws -> EnrollResponse { try await send("POST", "/v1/enroll", body: request) }

    public func reportInventory(host: HostID, _ report: InventoryReport) async throws -> ReportAccepted {
        try await send("PUT", "/v1/hosts/\(host)/inventory", body: report)
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

    func send<Body: Encodable, Response: Decodable>(
        _ method: String, _ path: String, body: Body?, query: [URLQueryItem] = []
    ) async throws -> Response {
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty { components.queryItems = query }
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("sluice/\(SluiceVersion.current)", forHTTPHeaderField: "User-Agent")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONEncoder().encode(body)
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw ClientError.unreachable("cannot reach the controller at \(baseURL.absoluteString): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw ClientError.badResponse("not an HTTP response") }
        guard (200..<300).contains(http.statusCode) else {
            if let error = try? JSONDecoder().decode(ErrorResponse.self, from: data) {
                throw ClientError.api(status: http.statusCode, code: error.error.code, message: error.error.message)
            }
            throw ClientError.api(status: http.statusCode, code: "http_\(http.statusCode)", message: "the controller answered \(http.statusCode) without details")
        }
        do {
            return try JSONDecoder().decode(Response.self, from: data)
        } catch {
            throw ClientError.badResponse("unexpected answer from \(method) \(path): \(error)")
        }
    }
}
