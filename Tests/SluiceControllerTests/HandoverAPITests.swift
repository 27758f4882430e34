import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SluiceAPI
import SluiceController
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

/// `POST /v1/hosts/{hostID}/handover`: an agent orphaned for `orphan_after` handed its host back
/// to unattended-upgrades, then took it over again once the controller answered.
@Suite("Hand-back reports")
struct HandoverAPITests {
    static let report = HandoverReport(
        reason: "orphaned", handedBackAtMs: 1_699_000_000_000,
        handbackDetail: "the controller was unreachable for longer than orphan_after; restored: /etc/apt/apt.conf.d/51sluice-unattended-upgrades removed",
        takenOverAtMs: 1_699_900_000_000, takeoverDetail: "/etc/apt/apt.conf.d/51sluice-unattended-upgrades sets APT::Periodic::Unattended-Upgrade \"0\"")

    @Test func anOrphanedHostsHandBackAndTakeOverAreAuditedInThatOrder() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let token = try await client.enroll("dns1", labels: ["region": "fra"], with: harness.enrollment)

            let recorded = try await client.execute(uri: "/v1/hosts/dns1/handover", method: .post, headers: bearer(token), body: jsonBody(Self.report)) {
                #expect($0.status == .ok, "\(String(buffer: $0.body))")
                return try decode(HandoverRecorded.self, $0)
            }

            let events = try harness.database.auditEvents(hostID: Fixtures.host("dns1")).suffix(2)
            #expect(events.map(\.kind) == ["host.handed-back", "host.taken-over"])
            #expect(recorded.auditSeqs == events.map(\.seq))
            #expect(events.allSatisfy { $0.actor == "agent:dns1" && $0.region == "fra" && $0.atMs == harness.clock.nowMs() }, "\(events)")
            let sentences = events.map(AuditWording.sentence)
            #expect(sentences.first?.hasPrefix("dns1 handed itself back to unattended-upgrades at 2023-11-03T08:26:40") == true, "\(sentences)")
            #expect(sentences.first?.contains("(orphaned): the controller was unreachable") == true, "\(sentences)")
            #expect(sentences.last?.hasPrefix("dns1 took over from unattended-upgrades again at 2023-11-13T18:26:40") == true, "\(sentences)")
        }
    }

    @Test func badReportsNameTheFieldAndWriteNothing() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let token = try await client.enroll("dns1", with: harness.enrollment)
            let other = try await client.enroll("dns2", with: harness.enrollment)
            let before = try harness.snapshot()
            var bored = Self.report
            bored.reason = "bored"
            var empty = Self.report
            empty.takeoverDetail = ""
            for (path, bearerToken, body, status, message) in [
                ("/v1/hosts/dns1/handover", token, jsonBody(bored), HTTPResponse.Status.badRequest, "reason: \"bored\" is not one of orphaned"),
                ("/v1/hosts/dns1/handover", token, jsonBody(empty), .badRequest, "takeoverDetail"),
                ("/v1/hosts/dns1/handover", other, jsonBody(Self.report), .forbidden, "host dns2 may only read and write its own records"),
                ("/v1/hosts/dns1/handover", harness.admin, jsonBody(Self.report), .forbidden, "this route is for the host itself"),
            ] {
                try await client.execute(uri: path, method: .post, headers: bearer(bearerToken), body: body) {
                    #expect($0.status == status, "\(message): \(String(buffer: $0.body))")
                    #expect(errorBody($0).message.contains(message), "\(errorBody($0))")
                }
            }
            #expect(try harness.snapshot() == before)
        }
    }
}
