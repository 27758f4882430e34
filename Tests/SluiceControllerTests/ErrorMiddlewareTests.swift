import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SluiceController
import SluiceTestSupport
import Synchronization
import Testing

/// What the controller logs when a request fails for a reason that is not its own, over a
/// real loopback socket so that the errors are the ones the server really produces.
@Suite("Error middleware: clients that go away or break HTTP")
struct ErrorMiddlewareTests {
    /// The controller's log lines, kept in memory.
    final class CapturedLog: Sendable {
        private let lines = Mutex<[(level: Logger.Level, text: String)]>([])
        func append(_ level: Logger.Level, _ text: String) { lines.withLock { $0.append((level, text)) } }
        var all: [(level: Logger.Level, text: String)] { lines.withLock { $0 } }

        /// Waits until a line contains `text`, up to `limit`: whether one did.
        func waitForLine(containing text: String, within limit: Duration = .seconds(10)) async throws -> Bool {
            try await eventually(within: limit) { all.contains { $0.text.contains(text) } }
        }
    }

    struct CapturingLogHandler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { log.append(event.level, "\(event.message)") }
    }

    /// Runs the harness's controller on a loopback port, logging at debug level into `log`.
    func withController(_ log: CapturedLog, _ body: @Sendable (_ harness: ControllerHarness, _ port: Int) async throws -> Void) async throws {
        let harness = try ControllerHarness()
        var logger = Logger(label: "sluiced") { _ in CapturingLogHandler(log: log) }
        logger.logLevel = .debug
        var settings = ControllerSettings()
        settings.port = 0
        let app = try buildApplication(settings: settings, database: harness.database, clock: harness.clock, logger: logger, runReconciler: false)
        try await app.test(.live) { client in
            try await body(harness, try #require(client.port))
        }
    }

    /// Regression (security probe): a client that closed or reset its connection while its
    /// body was being read was logged as an "internal error" of the controller.
    @Test(arguments: [false, true])
    func aClientThatGoesAwayMidBodyIsLoggedAsDisconnectedNotAsAnError(reset: Bool) async throws {
        let log = CapturedLog()
        try await withController(log) { harness, port in
            let connection = try LoopbackConnection(port: port)
            try connection.send(
                "POST /v1/rollouts/plan HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(harness.admin)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"policy\":")
            // Close only once the controller has read what was sent, so it is reading the body.
            _ = try await eventually(within: .seconds(10)) { LoopbackConnection.delivered(fromPort: connection.localPort, toPort: port) }
            connection.close(reset: reset)
            #expect(
                try await log.waitForLine(containing: "POST /v1/rollouts/plan: client disconnected mid-request"),
                "no disconnect line; the log: \(log.all)")
        }
        #expect(!log.all.contains { $0.level >= .error || $0.text.contains("internal error") }, "\(log.all.filter { $0.level >= .warning })")
        #expect(log.all.filter { $0.text.contains("client disconnected") }.allSatisfy { $0.level == .debug })
    }

    /// Found beside it: broken chunked framing was a 500 and an error line too; it is the
    /// client's mistake, answered 400 by HTTP itself.
    @Test func aBodyWithBrokenChunkedFramingGets400AndNoErrorLine() async throws {
        let log = CapturedLog()
        try await withController(log) { harness, port in
            let connection = try LoopbackConnection(port: port)
            try connection.send(
                "POST /v1/rollouts/plan HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(harness.admin)\r\n"
                    + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
            let answer = await connection.readToEnd()
            #expect(answer.hasPrefix("HTTP/1.1 400 "), "\(answer.debugDescription)")
        }
        #expect(!log.all.contains { $0.level >= .error || $0.text.contains("internal error") }, "\(log.all.filter { $0.level >= .warning })")
    }
}
