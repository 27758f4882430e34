import Foundation
import GRDB
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceStore

@Suite("Heartbeats committed together (group commit)")
struct HeartbeatWriterTests {
    static func fleet(_ count: Int, in directory: TemporaryDirectory) throws -> (SluiceDatabase, [HostID]) {
        let database = try SluiceDatabase.open(path: directory.file("sluice.sqlite"), nowMs: 1)
        let token = try database.createEnrollmentToken(name: "fleet", uses: count, expiresAtMs: 1_000_000, labels: nil, actor: .local("root"), nowMs: 1)
        let hosts = (0..<count).map { Fixtures.host("web\($0)") }
        for host in hosts {
            _ = try database.enroll(host: host, labels: Fixtures.labels(["region": "eu", "role": "web"]), enrollmentKeyID: token.keyID, nowMs: 2)
        }
        return (database, hosts)
    }

    static func row(_ database: SluiceDatabase, _ host: HostID) throws -> (lastSeen: Int64?, healthy: Bool?, detail: String?) {
        try database.writer.read { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT last_seen_at_ms, healthy, health_detail FROM hosts WHERE id = ?", arguments: [host.rawValue]))
            return (row["last_seen_at_ms"], row["healthy"], row["health_detail"])
        }
    }

    @Test func manyConcurrentHeartbeatsAreEachRecordedWithTheirOwnResult() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try Self.fleet(200, in: directory)
        let writer = HeartbeatWriter(database: database, maxBatch: 16)
        // The first heartbeat of each host changes its health (unknown -> healthy or unhealthy).
        let changed = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for (index, host) in hosts.enumerated() {
                group.addTask {
                    (index, try await writer.record(HealthBeat(host: host, healthy: index % 3 != 0, detail: "beat \(index)", nowMs: 1000 + Int64(index))))
                }
            }
            return try await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(changed.count == hosts.count)
        #expect(changed.values.allSatisfy { $0 })
        for (index, host) in hosts.enumerated() {
            let row = try Self.row(database, host)
            #expect(row.lastSeen == 1000 + Int64(index))
            #expect(row.healthy == (index % 3 != 0))
            #expect(row.detail == "beat \(index)")
        }
        // The same health again changes nothing but the time and detail.
        #expect(try await writer.record(HealthBeat(host: hosts[1], healthy: true, detail: "again", nowMs: 5000)) == false)
        #expect(try Self.row(database, hosts[1]).lastSeen == 5000)
    }

    @Test func aHeartbeatOfAnUnknownHostFailsAloneInItsBatch() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try Self.fleet(20, in: directory)
        let writer = HeartbeatWriter(database: database)
        let ghost = Fixtures.host("ghost")
        let outcomes = await withTaskGroup(of: (HostID, Bool).self) { group in
            for host in hosts + [ghost] {
                group.addTask {
                    do {
                        _ = try await writer.record(HealthBeat(host: host, healthy: true, detail: "up", nowMs: 7000))
                        return (host, true)
                    } catch {
                        return (host, false)
                    }
                }
            }
            return await group.reduce(into: [HostID: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes[ghost] == false)
        #expect(hosts.allSatisfy { outcomes[$0] == true })
        for host in hosts { #expect(try Self.row(database, host).lastSeen == 7000) }
    }

    @Test func aHealthChangeInABatchIsAuditedOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try Self.fleet(5, in: directory)
        let writer = HeartbeatWriter(database: database)
        let before = try database.auditEvents().filter { $0.kind == "host.unhealthy" }.count
        try await withThrowingTaskGroup(of: Void.self) { group in
            for host in hosts { group.addTask { _ = try await writer.record(HealthBeat(host: host, healthy: false, detail: "down", nowMs: 9000)) } }
            try await group.waitForAll()
        }
        #expect(try database.auditEvents().filter { $0.kind == "host.unhealthy" }.count == before + hosts.count)
    }
}
