import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SluiceAPI
import SluiceController
import SluiceCore
import SluiceStore

/// A controller over an in-memory database with a manual clock, an admin token and an
/// enrollment token ready.
struct ControllerHarness {
    let database: SluiceDatabase
    let clock = ManualWallClock(nowMs: 1_700_000_000_000)
    let admin: String
    let viewer: String
    let enrollment: String

    init() throws {
        database = try SluiceDatabase.inMemory()
        admin = try database.createOperatorToken(name: "alice", role: .admin, expiresAtMs: nil, actor: .local("root"), nowMs: 0).token
        viewer = try database.createOperatorToken(name: "victor", role: .viewer, expiresAtMs: nil, actor: .local("root"), nowMs: 0).token
        enrollment = try database.createEnrollmentToken(
            name: "boot", uses: 10, expiresAtMs: Int64.max / 2, labels: nil, actor: .local("root"), nowMs: 0
        ).token
    }

    func application(_ configure: (inout ControllerSettings) -> Void = { _ in }) throws -> some ApplicationProtocol {
        var settings = ControllerSettings()
        settings.port = 0
        configure(&settings)
        var logger = Logger(label: "test")
        logger.logLevel = .error
        return try buildApplication(settings: settings, database: database, clock: clock, logger: logger)
    }

    /// Everything an API call could have written, to prove a refused call wrote nothing.
    func snapshot() throws -> String {
        let hosts = try database.listHosts(nowMs: clock.nowMs(), staleAfterMs: 1)
        let details = try hosts.map { try database.hostDetail($0.id, nowMs: clock.nowMs(), staleAfterMs: 1) }
        let audit = try database.auditEvents(limit: 100_000)
        return String(decoding: try JSONEncoder().encode([String(describing: hosts), String(describing: details), String(describing: audit)]), as: UTF8.self)
    }
}

func bearer(_ token: String) -> HTTPFields {
    var fields = HTTPFields()
    fields[.authorization] = "Bearer \(token)"
    fields[.contentType] = "application/json"
    return fields
}

func jsonBody(_ value: some Encodable) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONEncoder().encode(value))
}

func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
}

extension TestClientProtocol {
    /// Enrolls `host` and returns its own token.
    func enroll(_ host: String, labels: [String: String] = [:], with token: String) async throws -> String {
        let request = EnrollRequest(hostID: try HostID(parsing: host), labels: try Labels(validating: labels))
        return try await execute(uri: "/v1/enroll", method: .post, headers: bearer(token), body: jsonBody(request)) { response in
            guard response.status == .created else {
                throw InvalidInput("enroll answered \(response.status): \(String(buffer: response.body))")
            }
            return try decode(EnrollResponse.self, response).token
        }
    }
}

/// The API error of a response, or a placeholder that fails any comparison.
func errorBody(_ response: TestResponse) -> ErrorResponse.Body {
    (try? decode(ErrorResponse.self, response).error) ?? ErrorResponse.Body(code: "<no JSON error>", message: "<no JSON error: \(String(buffer: response.body))>")
}
