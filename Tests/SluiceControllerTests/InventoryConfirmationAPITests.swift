import SluiceTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SluiceAPI
import SluiceClient
import SluiceCore
import Testing

/// `PUT /v1/hosts/{hostID}/inventory/digest` through the real router and store: an agent
/// confirms the inventory the controller holds by its digest instead of resending it.
@Suite("Inventory confirmed by its digest (API)")
struct InventoryConfirmationAPITests {
    static let path = "/v1/hosts/dns1/inventory/digest"

    static func confirmation(_ report: InventoryReport = Fixtures.report(), labels: [String: String]? = nil) -> ByteBuffer {
        jsonBody(InventoryConfirmation(digest: InventoryDigest.hex(of: report), labels: labels.map(Fixtures.labels)))
    }

    @Test func theDigestOfTheHeldInventoryIsAcceptedAndTheHostCountsAsSeen() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let token = try await client.enroll("dns1", labels: ["role": "dns"], with: harness.enrollment)
            try await client.execute(uri: "/v1/hosts/dns1/inventory", method: .put, headers: bearer(token), body: jsonBody(Fixtures.report())) {
                #expect($0.status == .ok)
            }
            harness.clock.advance(byMs: 3_600_000)
            try await client.execute(uri: Self.path, method: .put, headers: bearer(token), body: Self.confirmation()) {
                #expect($0.status == .ok)
                let accepted = try decode(ReportAccepted.self, $0)
                #expect(accepted == ReportAccepted(changed: false, nextReportSeconds: 60))
            }
            let summary = try #require(try harness.database.hostDetail(Fixtures.host("dns1"), nowMs: harness.clock.nowMs(), staleAfterMs: 1)).summary
            #expect(summary.lastSeenAtMs == harness.clock.nowMs())

            // Labels other than the approved ones: a request for an operator, as with a report.
            try await client.execute(uri: Self.path, method: .put, headers: bearer(token), body: Self.confirmation(labels: ["role": "web"])) {
                #expect($0.status == .ok)
                let change = try decode(ReportAccepted.self, $0).labelChange
                #expect(change?.requested == Fixtures.labels(["role": "web"]) && change?.approved == Fixtures.labels(["role": "dns"]), "\(String(describing: change))")
            }
            #expect(try harness.database.auditEvents(hostID: Fixtures.host("dns1")).last?.kind == "host.labels_requested")
        }
    }

    @Test func anotherDigestOrNoInventoryYetIsA409AndWritesNothing() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let token = try await client.enroll("dns1", with: harness.enrollment)
            // No inventory yet.
            // The clock moves first: a wrongly recorded confirmation would move last_seen.
            harness.clock.advance(byMs: 1000)
            var before = try harness.snapshot()
            try await client.execute(uri: Self.path, method: .put, headers: bearer(token), body: Self.confirmation(labels: ["role": "web"])) {
                #expect($0.status == .conflict)
                #expect(
                    errorBody($0)
                        == ErrorResponse.Body(
                            code: "inventory_differs", message: "host dns1: the controller holds a different inventory (or none); send the full report"))
            }
            #expect(try harness.snapshot() == before)

            // Another inventory than the one held.
            try await client.execute(uri: "/v1/hosts/dns1/inventory", method: .put, headers: bearer(token), body: jsonBody(Fixtures.report())) {
                #expect($0.status == .ok)
            }
            harness.clock.advance(byMs: 1000)
            before = try harness.snapshot()
            let other = Self.confirmation(Fixtures.report(candidates: []), labels: ["role": "web"])
            try await client.execute(uri: Self.path, method: .put, headers: bearer(token), body: other) {
                #expect($0.status == .conflict && errorBody($0).code == "inventory_differs")
            }
            #expect(try harness.snapshot() == before)
        }
    }

    @Test func aMalformedConfirmationIsA400AndAnotherHostsTokenA403() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let token = try await client.enroll("dns1", with: harness.enrollment)
            let other = try await client.enroll("dns2", with: harness.enrollment)
            try await client.execute(uri: "/v1/hosts/dns1/inventory", method: .put, headers: bearer(token), body: jsonBody(Fixtures.report())) {
                #expect($0.status == .ok)
            }
            harness.clock.advance(byMs: 1000)
            let before = try harness.snapshot()
            let digest = InventoryDigest.hex(of: Fixtures.report())
            for body in [
                #"{"digest":"\#(digest.uppercased())"}"#, #"{"digest":"\#(digest.dropLast())"}"#, #"{"digest":"\#(digest)0"}"#, #"{"digest":"zz"}"#,
                #"{}"#, #"{"digest":"\#(digest)","labels":null}"#, #"{"digest":"\#(digest)","extra":1}"#, #"{"digest":"\#(digest)","digest":"\#(digest)"}"#,
                #"{"digest":"\#(digest)","labels":{"Role":"x"}}"#, #"{"digest":42}"#, #"[]"#,
            ] {
                try await client.execute(uri: Self.path, method: .put, headers: bearer(token), body: ByteBuffer(string: body)) {
                    #expect($0.status == .badRequest && errorBody($0).code == "invalid_request", "\(body): \(errorBody($0))")
                }
            }
            try await client.execute(uri: Self.path, method: .put, headers: bearer(other), body: Self.confirmation()) {
                #expect($0.status == .forbidden && errorBody($0).code == "forbidden")
            }
            try await client.execute(uri: Self.path, method: .put, headers: bearer(harness.admin), body: Self.confirmation()) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: Self.path, method: .put, body: Self.confirmation()) {
                #expect($0.status == .unauthorized)
            }
            #expect(try harness.snapshot() == before)
        }
    }

    /// The agent's client over a real socket: the digest it computes from its own report is
    /// the one the controller computed from the JSON it received, and a 409 is told apart.
    @Test func theClientConfirmsOverARealSocketAndTellsA409Apart() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.live) { client in
            let token = try await client.enroll("dns1", with: harness.enrollment)
            let agent = try SluiceHTTPClient(controller: "http://127.0.0.1:\(try #require(client.port))", token: token)
            let host = Fixtures.host("dns1")
            let report = Fixtures.report(candidates: [("bind9", "1:9.18.24-1", "1:9.18.28-1~deb12u2", true), ("tzdata", "2024a-0+deb12u1", "2025b-0+deb12u1", false)])
            #expect(try await agent.confirmInventory(host: host, InventoryConfirmation(digest: InventoryDigest.hex(of: report))) == .differs)
            #expect(try await agent.reportInventory(host: host, report).changed)
            #expect(
                try await agent.confirmInventory(host: host, InventoryConfirmation(digest: InventoryDigest.hex(of: report)))
                    == .accepted(ReportAccepted(changed: false, nextReportSeconds: 60)))
            // Any other refusal is still an error.
            await #expect(throws: ClientError.self) {
                try await agent.confirmInventory(host: Fixtures.host("dns2"), InventoryConfirmation(digest: InventoryDigest.hex(of: report)))
            }
        }
    }

    /// A controller older than the route answers 404: the agent sends the full report.
    @Test func aControllerWithoutTheRouteCountsAsHoldingAnotherInventory() async throws {
        let router = Router()
        router.put("/v1/hosts/:hostID/inventory") { _, _ in HTTPResponse.Status.ok }
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let agent = try SluiceHTTPClient(controller: "http://127.0.0.1:\(try #require(client.port))", token: "sluice-host.0123456789abcdef.\(String(repeating: "A", count: 43))")
            #expect(try await agent.confirmInventory(host: Fixtures.host("dns1"), InventoryConfirmation(digest: InventoryDigest.hex(of: Fixtures.report()))) == .differs)
        }
    }
}
