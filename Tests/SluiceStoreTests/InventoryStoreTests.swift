import SluiceTestSupport
import Foundation
import GRDB
import SluiceCore
import Testing

@testable import SluiceStore

@Suite("Inventory and audit log")
struct InventoryStoreTests {
    let database = try! SluiceDatabase.inMemory()

    func enrolled(_ id: String, labels: [String: String] = ["region": "osc-fr1", "role": "dns-resolver"]) throws -> HostID {
        let token = try database.createEnrollmentToken(name: "t-\(id)", uses: 1, expiresAtMs: 1_000_000, labels: nil, actor: .local("root"), nowMs: 1)
        let host = Fixtures.host(id)
        _ = try database.enroll(host: host, labels: Fixtures.labels(labels), enrollmentKeyID: token.keyID, nowMs: 2)
        return host
    }

    @Test func aReportIsStoredWithItsCandidatesAndEveryOrigin() throws {
        let host = try enrolled("dns1")
        let report = Fixtures.report(candidates: [("bind9", "1:9.18.24-1", "1:9.18.28-1~deb12u2", true), ("tzdata", "2024a-0+deb12u1", "2025b-0+deb12u1", false)])
        #expect(try database.recordInventory(host: host, report: report, nowMs: 1000))
        let detail = try #require(try database.hostDetail(host, nowMs: 1000, staleAfterMs: 60_000))
        #expect(detail.candidates == report.candidates)
        #expect(detail.installed == report.installed)
        #expect(detail.summary.pendingUpdates == 2)
        #expect(detail.summary.pendingSecurityUpdates == 1)
        #expect(detail.summary.os == report.os)
        #expect(detail.summary.lastSeenAtMs == 1000)
    }

    @Test func anUnchangedReportOnlyMovesLastSeenAndWritesNoAuditEvent() throws {
        let host = try enrolled("dns1")
        let report = Fixtures.report()
        #expect(try database.recordInventory(host: host, report: report, nowMs: 1000))
        let events = try database.auditEvents().count
        #expect(try database.recordInventory(host: host, report: report, nowMs: 2000) == false)
        #expect(try database.auditEvents().count == events)
        #expect(try database.hostDetail(host, nowMs: 2000, staleAfterMs: 1)?.summary.lastSeenAtMs == 2000)
    }

    @Test func aChangedReportIsAuditedWithTheCandidatesThatCameAndWent() throws {
        let host = try enrolled("dns1")
        try database.recordInventory(host: host, report: Fixtures.report(), nowMs: 1000)
        try database.recordInventory(
            host: host, report: Fixtures.report(candidates: [("openssl", "3.0.11-1~deb12u1", "3.0.11-1~deb12u2", true)]), nowMs: 2000)
        let last = try #require(try database.auditEvents(hostID: host).last)
        #expect(last.kind == "inventory.changed")
        #expect(last.actor == "agent:dns1")
        #expect(last.region == "osc-fr1")
        #expect(last.details.contains("\"candidatesAdded\":[\"openssl:amd64=3.0.11-1~deb12u2\"]"))
        #expect(last.details.contains("\"candidatesRemoved\":[\"bind9:amd64=1:9.18.28-1~deb12u2\"]"))
    }

    @Test func theChangeEventKeepsItsExactDetails() throws {
        let host = try enrolled("dns1")
        try database.recordInventory(host: host, report: Fixtures.report(), nowMs: 1000)
        try database.recordInventory(
            host: host,
            report: Fixtures.report(candidates: [("bind9", "1:9.18.24-1", "1:9.18.28-1~deb12u2", true), ("tzdata", "2024a-0+deb12u1", "2025b-0+deb12u1", false)]),
            nowMs: 2000)
        try database.recordInventory(host: host, report: Fixtures.report(candidates: [("tzdata", "2024a-0+deb12u1", "2025b-0+deb12u2", false)]), nowMs: 3000)
        let details = try database.auditEvents(hostID: host).filter { $0.kind == "inventory.changed" }.map(\.details)
        #expect(
            details == [
                #"{"candidates":1,"candidatesAdded":["bind9:amd64=1:9.18.28-1~deb12u2"],"candidatesRemoved":[],"installed":1,"security":1,"truncated":false}"#,
                #"{"candidates":2,"candidatesAdded":["tzdata:amd64=2025b-0+deb12u1"],"candidatesRemoved":[],"installed":2,"security":1,"truncated":false}"#,
                #"{"candidates":1,"candidatesAdded":["tzdata:amd64=2025b-0+deb12u2"],"candidatesRemoved":["bind9:amd64=1:9.18.28-1~deb12u2","tzdata:amd64=2025b-0+deb12u1"],"installed":1,"security":0,"truncated":false}"#,
            ])
    }

    @Test func aReportForAHostThatIsNotEnrolledIsRefused() {
        #expect(throws: StoreError.notFound("host ghost is not enrolled")) {
            try database.recordInventory(host: Fixtures.host("ghost"), report: Fixtures.report(), nowMs: 1)
        }
    }

    @Test func pendingUpdatesAreCountedAcrossHostsWithTheirOrigins() throws {
        for id in ["dns1", "dns2", "web1"] {
            try database.recordInventory(host: try enrolled(id), report: Fixtures.report(), nowMs: 1000)
        }
        let updates = try database.pendingUpdates()
        #expect(updates.count == 1)
        #expect(updates.first?.hosts == 3)
        #expect(updates.first?.isSecurity == true)
        #expect(updates.first?.origins == ["Debian-Security/stable-security"])
    }

    @Test func aHostSilentLongerThanTheThresholdIsFlaggedStale() throws {
        let host = try enrolled("dns1", labels: ["region": "osc-fr1"])
        try database.recordInventory(host: host, report: Fixtures.report(), nowMs: 1000)
        let warnings = try database.listHosts(nowMs: 1000 + 10 * 60_000, staleAfterMs: 5 * 60_000).first?.warnings
        #expect(warnings == ["stale: no report for 10m", "no role label: not in any redundancy group"])
    }

    @Test func theAuditLogRefusesUpdatesAndDeletesEvenFromRawSQL() throws {
        _ = try enrolled("dns1")
        #expect(throws: DatabaseError.self) { try database.writer.write { try $0.execute(sql: "UPDATE audit_events SET actor = 'x'") } }
        #expect(throws: DatabaseError.self) { try database.writer.write { try $0.execute(sql: "DELETE FROM audit_events") } }
        #expect(try database.verifyAuditChain() == nil)
    }

    @Test func theAuditChainNamesTheFirstEditedRow() throws {
        _ = try enrolled("dns1")
        _ = try enrolled("dns2")
        #expect(try database.verifyAuditChain() == nil)
        try database.writer.writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER audit_events_are_never_updated")
            try db.execute(sql: "UPDATE audit_events SET actor = 'operator:mallory' WHERE seq = 3")
        }
        #expect(try database.verifyAuditChain()?.seq == 3)
    }
}
