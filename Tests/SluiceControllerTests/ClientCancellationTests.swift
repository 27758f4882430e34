import Foundation
import HummingbirdTesting
import SluiceAPI
import SluiceClient
import SluiceCore
import SluiceTestSupport
import Testing

/// An agent that stops while its assignment long-poll is parked ends the poll as a
/// cancellation, which it does not log, rather than as an unreachable controller (an error
/// line in the host's journal on every restart).
@Suite("Client: a cancelled request")
struct ClientCancellationTests {
    @Test func aLongPollCancelledByItsCallerIsACancellationNotAnUnreachableController() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.live) { client in
            let token = try await client.enroll("dns1", with: harness.enrollment)
            let agent = try SluiceHTTPClient(controller: "http://127.0.0.1:\(try #require(client.port))", token: token)
            // Nothing to do: the first poll ends after its second; the next one, knowing that, parks.
            let first = try await agent.pollAssignment(host: Fixtures.host("dns1"), known: nil, waitSeconds: 1)
            // (Short, as sluiced keeps a parked poll whose client left until its wait ends.)
            let parked = Task { try await agent.pollAssignment(host: Fixtures.host("dns1"), known: first.etag, waitSeconds: 4) }
            try await Task.sleep(for: .milliseconds(300))
            parked.cancel()
            let started = ContinuousClock.now
            await #expect(throws: CancellationError.self) { try await parked.value }
            #expect(ContinuousClock.now - started < .seconds(2), "the cancelled poll waited for the controller's answer")
        }
    }
}
