import Foundation
import GRDB
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceStore

/// An agent confirms an unchanged inventory by its digest: when it matches, the store does
/// exactly what an unchanged full report does; otherwise it writes nothing.
@Suite("Inventory confirmed by its digest")
struct InventoryConfirmationTests {
    let database = try! SluiceDatabase.inMemory()

    func enrolled(_ id: String) throws -> HostID {
        let token = try database.createEnrollmentToken(name: "t-\(id)", uses: 1, expiresAtMs: 1_000_000, labels: nil, actor: .local("root"), nowMs: 1)
        let host = Fixtures.host(id)
        _ = try database.enroll(host: host, labels: Fixtures.labels(["region": "osc-fr1", "role": "dns-resolver"]), enrollmentKeyID: token.keyID, nowMs: 2)
        return host
    }

    @Test func aMatchingDigestDoesWhatAnUnchangedReportDoesLabelRequestIncluded() async throws {
        // Given two hosts with the same inventory, one of whose agents now asks for another role.
        let reported = try enrolled("dns1"), confirmed = try enrolled("dns2")
        let report = Fixtures.report()
        try database.recordInventory(host: reported, report: report, nowMs: 1000)
        try database.recordInventory(host: confirmed, report: report, nowMs: 1000)
        let events = try database.auditEvents().count
        let labels = Fixtures.labels(["region": "osc-fr1", "role": "web"])

        // When one sends the unchanged report again and the other only its digest,
        var labelled = report
        labelled.labels = labels
        let byReport = try database.recordReport(host: reported, report: labelled, nowMs: 5000)
        let byDigest = try #require(
            try await database.commitConfirmation(host: confirmed, digest: InventoryDigest.hex(of: report), labels: labels, nowMs: 5000))

        // Then both answers, host rows and audit events are the same but for the host's id.
        #expect(byDigest == byReport)
        #expect(byDigest.changed == false && byDigest.labelChange?.requested == labels && byDigest.labelChange?.requestedAtMs == 5000)
        let rows = try hostRows()
        #expect(rows[0]["last_seen_at_ms"] == 5000 as Int64 && rows[0]["last_report_at_ms"] == 5000 as Int64)
        #expect(withoutID(rows[0]) == withoutID(rows[1]), "\(rows)")
        let added = try database.auditEvents().dropFirst(events)
        #expect(added.map(\.kind) == ["host.labels_requested", "host.labels_requested"])
        #expect(added.map(\.hostID) == ["dns1", "dns2"])
        #expect(Set(added.map(\.details)).count == 1)
        #expect(try requests() == [["dns1", "5000"], ["dns2", "5000"]])
    }

    @Test func withoutLabelsOnlyTheTimesMove() async throws {
        let host = try enrolled("dns1")
        try database.recordInventory(host: host, report: Fixtures.report(), nowMs: 1000)
        let events = try database.auditEvents().count
        let recorded = try await database.commitConfirmation(host: host, digest: InventoryDigest.hex(of: Fixtures.report()), labels: nil, nowMs: 7000)
        #expect(recorded == InventoryRecorded(changed: false, labelChange: nil))
        #expect(try database.auditEvents().count == events)
        #expect(try database.hostDetail(host, nowMs: 7000, staleAfterMs: 1)?.summary.lastSeenAtMs == 7000)
        #expect(try hostRows()[0]["last_report_at_ms"] == 7000 as Int64)
    }

    @Test func anotherDigestOrNoInventoryYetWritesNothing() async throws {
        let host = try enrolled("dns1"), fresh = try enrolled("dns2")
        try database.recordInventory(host: host, report: Fixtures.report(), nowMs: 1000)
        let before = try everything()
        let other = InventoryDigest.hex(of: Fixtures.report(candidates: []))
        let askingLabels = Fixtures.labels(["role": "web"])

        for (id, digest) in [(host, other), (fresh, InventoryDigest.hex(of: Fixtures.report()))] {
            let recorded = try await database.commitConfirmation(host: id, digest: digest, labels: askingLabels, nowMs: 9000)
            #expect(recorded == nil, "\(id)")
        }
        #expect(try everything() == before)
    }

    @Test func aHostThatIsNotEnrolledIsRefused() async {
        await #expect(throws: StoreError.notFound("host ghost is not enrolled")) {
            try await database.commitConfirmation(host: Fixtures.host("ghost"), digest: InventoryDigest.hex(of: Fixtures.report()), labels: nil, nowMs: 1)
        }
    }

    // MARK: Helpers

    func hostRows() throws -> [Row] {
        try database.writer.read { try Row.fetchAll($0, sql: "SELECT * FROM hosts ORDER BY id") }
    }

    func withoutID(_ row: Row) -> [String: DatabaseValue] {
        var values = Dictionary(uniqueKeysWithValues: row.map { ($0, $1) })
        values["id"] = nil
        return values
    }

    func requests() throws -> [[String]] {
        try database.writer.read {
            try Row.fetchAll($0, sql: "SELECT host_id, requested_at_ms FROM host_label_requests ORDER BY host_id").map { row in
                [row["host_id"] as String, String(row["requested_at_ms"] as Int64)]
            }
        }
    }

    /// Every row a confirmation could write, as text.
    func everything() throws -> [String] {
        try database.writer.read { db in
            try ["hosts", "host_labels", "host_label_requests", "installed_packages", "upgrade_candidates", "candidate_origins", "audit_events"].map { table in
                String(describing: try Row.fetchAll(db, sql: "SELECT * FROM \(table)"))
            }
        }
    }
}
