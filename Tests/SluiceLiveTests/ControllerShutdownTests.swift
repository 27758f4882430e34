import Foundation
import SluiceAPI
import SluiceClient
import SluiceCore
import SluiceTestSupport
import Testing

/// Stopping the real sluiced while an agent's assignment long-poll is parked.
@Suite("Live: stopping sluiced")
struct ControllerShutdownTests {
    /// Regression (security probe): SIGTERM waited for the longest parked long-poll (up to its
    /// whole wait). A graceful stop now answers parked polls at once and exits cleanly.
    @Test func sigtermAnswersAParkedLongPollAtOnceAndExitsWithStatusZero() async throws {
        let dir = NSTemporaryDirectory() + "sluice-shutdown-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = dir + "/sluice.sqlite"
        let made = try runProgram("sluiced", ["enroll-token", "create", "--name", "boot", "--db", db])
        #expect(made.status == 0, "\(made.stderr)")
        let controller = try BackgroundProgram(
            "sluiced", ["--db", db, "--listen", "127.0.0.1:0", "--port-file", dir + "/port"], logPath: dir + "/sluiced.log")
        let port = try #require(Int(try controller.waitForFile(dir + "/port").trimmingCharacters(in: .whitespacesAndNewlines)))

        // One enrolled host, which knows it has nothing to do.
        let host = try HostID(parsing: "ns1.fra")
        let enrollment = try SluiceHTTPClient(
            controller: "http://127.0.0.1:\(port)", token: made.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let token = try await enrollment.enroll(EnrollRequest(hostID: host, labels: Labels())).token
        let first = try await SluiceHTTPClient(controller: "http://127.0.0.1:\(port)", token: token)
            .pollAssignment(host: host, known: nil, waitSeconds: 0)

        // Its next poll, on a socket of its own, parks for 25 seconds.
        let poll = try LoopbackConnection(port: port)
        try poll.send(
            "GET /v1/hosts/\(host)/assignment?wait=25&known=\(first.etag) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer \(token)\r\nConnection: close\r\n\r\n")
        // In flight once sluiced has read the request: the kernel acknowledged every byte sent
        // and none waits in sluiced's receive queue.
        guard try await eventually(within: .seconds(10), { LoopbackConnection.delivered(fromPort: poll.localPort, toPort: port) }) else {
            throw LiveError("sluiced did not read the long-poll within 10 s:\n\(controller.log)")
        }

        let stopping = ContinuousClock.now
        let status = try controller.stop(signal: SIGTERM, timeout: 40)
        let took = ContinuousClock.now - stopping
        #expect(status == 0, "sluiced did not exit cleanly:\n\(controller.log)")
        #expect(took < .seconds(5), "the stop took \(took), waiting for the parked long-poll (wait=25)")

        // The agent got an answer, not a reset: the same etag (nothing changed), so it polls again.
        let answer = await poll.readToEnd()
        #expect(answer.hasPrefix("HTTP/1.1 200 "), "the parked poll got no answer: \(answer.debugDescription)")
        #expect(answer.contains("\"etag\":\"\(first.etag)\""), "\(answer)")
        #expect(!controller.log.contains("error"), "\(controller.log)")
    }
}
