import Foundation
import GRDB
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceStore

/// What one host, honest or compromised, can make the store write: its changes of health
/// audited within an allowance, its inventory compared off the writer.
@Suite("A host's cost to the store")
struct HostCostTests {
    static func healthEvents(_ database: SluiceDatabase, _ host: HostID) throws -> [AuditEvent] {
        try database.auditEvents(limit: 100_000).filter { $0.hostID == host.rawValue && $0.kind.hasPrefix("host.") && $0.kind.hasSuffix("healthy") }
    }

    @Test func aFlappingHostIsAuditedFourTimesAtOnceThenOncePerIntervalWithTheChangesCounted() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try GroupCommitTests.fleet(1, in: directory)
        let host = hosts[0]
        // 200 changes in 2 s, each with a 2,000-byte detail: what the probe sent.
        let detail = String(repeating: "x", count: 2000)
        for index in 0..<200 {
            _ = try await database.commitHealth(HealthBeat(host: host, healthy: index % 2 == 1, detail: detail, nowMs: 10_000 + Int64(index) * 10))
        }
        var events = try Self.healthEvents(database, host)
        #expect(events.count == HealthBeat.auditBurst)
        // The host's row still has every change: the reconciler decides on the truth.
        #expect(try GroupCommitTests.row(database, host).healthy == true)
        // Within the interval, heartbeats without a change write nothing more...
        _ = try await database.commitHealth(HealthBeat(host: host, healthy: true, detail: "ok", nowMs: 40_000))
        #expect(try Self.healthEvents(database, host).count == HealthBeat.auditBurst)
        // ...and the first heartbeat once the allowance has refilled by one writes the count.
        _ = try await database.commitHealth(HealthBeat(host: host, healthy: true, detail: "ok", nowMs: 12_000 + HealthBeat.defaultAuditIntervalMs))
        events = try Self.healthEvents(database, host)
        #expect(events.count == HealthBeat.auditBurst + 1)
        let summary = try #require(events.last)
        #expect(summary.kind == "host.healthy")
        #expect(summary.details.contains(#""changesNotAudited":"196""#), "\(summary.details)")
        // Every audited detail is cut to 512 bytes, the host row keeping the whole.
        #expect(events.allSatisfy { $0.details.utf8.count < 700 }, "\(events.map(\.details.utf8.count))")
        // Once counted, the host is back on the one-statement heartbeat.
        #expect(try await database.commitHealth(HealthBeat(host: host, healthy: true, detail: "ok", nowMs: 200_000)) == false)
        #expect(try Self.healthEvents(database, host).count == HealthBeat.auditBurst + 1)
    }

    @Test func aRealHostsFailureAndRecoveryAreBothAuditedAtOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try GroupCommitTests.fleet(1, in: directory)
        let host = hosts[0]
        _ = try await database.commitHealth(HealthBeat(host: host, healthy: true, detail: "2 check(s) passed", nowMs: 1000))
        _ = try await database.commitHealth(HealthBeat(host: host, healthy: false, detail: "named: connection refused", nowMs: 2000))
        _ = try await database.commitHealth(HealthBeat(host: host, healthy: true, detail: "2 check(s) passed", nowMs: 3000))
        let events = try Self.healthEvents(database, host)
        #expect(events.map(\.kind) == ["host.healthy", "host.unhealthy", "host.healthy"])
        #expect(events.map(\.atMs) == [1000, 2000, 3000])
        #expect(events.allSatisfy { !$0.details.contains("changesNotAudited") })
    }

    @Test func aZeroIntervalAuditsEveryChange() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try GroupCommitTests.fleet(1, in: directory)
        for index in 0..<20 {
            _ = try await database.commitHealth(HealthBeat(host: hosts[0], healthy: index % 2 == 0, detail: "", nowMs: 1000 + Int64(index), auditIntervalMs: 0))
        }
        #expect(try Self.healthEvents(database, hosts[0]).count == 20)
    }

    @Test func aLongDetailIsCutAtACharacterBoundaryInTheAuditLog() {
        let detail = String(repeating: "é", count: 1000)  // 2,000 bytes
        let excerpt = SluiceDatabase.auditExcerpt(detail)
        #expect(excerpt.hasPrefix(String(repeating: "é", count: 256)))
        #expect(excerpt.hasSuffix("… (2000 bytes)"))
        #expect(SluiceDatabase.auditExcerpt("short") == "short")
    }

    /// The comparison is made from a snapshot, before the shared transaction: reports of one
    /// host racing each other must still leave its rows matching the digest stored last.
    @Test func reportsOfOneHostRacingEachOtherLeaveItsRowsMatchingItsStoredInventory() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try GroupCommitTests.fleet(1, in: directory)
        let host = hosts[0]
        let reports = (0..<6).map { variant in
            Fixtures.report(candidates: (0..<(20 + variant * 7)).map { ("pkg\($0 + variant * 3)", "1.0-\(variant)", "1.1-\($0 % 3)", $0 % 2 == 0) })
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for round in 0..<60 {
                group.addTask { _ = try await database.commitReport(host: host, report: reports[round % reports.count], nowMs: 1000 + Int64(round)) }
            }
            try await group.waitForAll()
        }
        let stored = try await database.writer.read { db in try String.fetchOne(db, sql: "SELECT inventory_digest FROM hosts WHERE id = ?", arguments: [host.rawValue]) }
        let report = try #require(reports.first { InventoryDigest.hex(of: $0) == stored })
        let detail = try #require(try database.hostDetail(host, nowMs: 2000, staleAfterMs: 60_000))
        #expect(Set(detail.installed.map(\.name)) == Set(report.installed.map(\.name)))
        #expect(detail.candidates.sorted { $0.name.rawValue < $1.name.rawValue } == report.candidates.sorted { $0.name.rawValue < $1.name.rawValue })
    }
}
