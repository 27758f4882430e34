import Foundation
import GRDB
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceStore

@Suite("Agents' writes committed together (group commit)")
struct GroupCommitTests {
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

    /// A write (returning -1) whose transaction has begun and stays open until `count` others
    /// are queued behind it (30 s at most).
    static func holdingWrite(_ committer: GroupCommit, synced: Bool = true, untilQueued count: Int) async throws -> Task<Int, any Error> {
        let before = committer.transactions
        let first = Task {
            try await committer.perform(synced: synced) { _ in
                let deadline = ContinuousClock.now + .seconds(30)
                while committer.queued < count, ContinuousClock.now < deadline { usleep(1000) }
                return -1
            }
        }
        while committer.transactions == before { try await Task.sleep(for: .milliseconds(1)) }
        return first
    }

    @Test func writesQueuedWhileOneIsWrittenShareTheNextTransaction() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try Self.fleet(100, in: directory)
        let committer = GroupCommit(writer: database.writer)
        let before = committer.transactions
        // The first write holds its transaction until the 99 others are queued behind it.
        let first = try await Self.holdingWrite(committer, untilQueued: hosts.count - 1)
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, host) in hosts.dropFirst().enumerated() {
                group.addTask {
                    try await committer.perform { db in
                        try db.execute(sql: "UPDATE hosts SET last_seen_at_ms = ? WHERE id = ?", arguments: [5000 + index, host.rawValue])
                        return index
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(try await first.value == -1)
        #expect(results.sorted() == Array(0..<(hosts.count - 1)))
        #expect(committer.transactions == before + 2, "one transaction for the first write, one for the 99 queued behind it")
        for (index, host) in hosts.dropFirst().enumerated() { #expect(try Self.row(database, host).lastSeen == 5000 + Int64(index)) }
    }

    @Test func manyConcurrentHeartbeatsAreEachRecordedWithTheirOwnResult() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try Self.fleet(200, in: directory)
        // The first heartbeat of each host changes its health (unknown -> healthy or unhealthy).
        let changed = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for (index, host) in hosts.enumerated() {
                group.addTask {
                    (index, try await database.commitHealth(HealthBeat(host: host, healthy: index % 3 != 0, detail: "beat \(index)", nowMs: 1000 + Int64(index))))
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
        #expect(try await database.commitHealth(HealthBeat(host: hosts[1], healthy: true, detail: "again", nowMs: 5000)) == false)
        #expect(try Self.row(database, hosts[1]).lastSeen == 5000)
    }

    @Test func aWriteThatFailsFailsAloneAndLeavesNothingBehind() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try Self.fleet(20, in: directory)
        let ghost = Fixtures.host("ghost")
        // A report listing a package twice fails on the primary key half-way through its rows.
        var doubled = Fixtures.report()
        doubled.installed += doubled.installed
        let twice = doubled
        let reporter = hosts[0]
        let outcomes = await withTaskGroup(of: (String, Bool).self) { group in
            for host in hosts.dropFirst() + [ghost] {
                group.addTask {
                    do {
                        _ = try await database.commitHealth(HealthBeat(host: host, healthy: true, detail: "up", nowMs: 7000))
                        return (host.rawValue, true)
                    } catch {
                        return (host.rawValue, false)
                    }
                }
            }
            group.addTask {
                do {
                    _ = try await database.commitReport(host: reporter, report: twice, nowMs: 7000)
                    return ("report", true)
                } catch {
                    return ("report", false)
                }
            }
            return await group.reduce(into: [String: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes[ghost.rawValue] == false)
        #expect(outcomes["report"] == false)
        #expect(hosts.dropFirst().allSatisfy { outcomes[$0.rawValue] == true })
        for host in hosts.dropFirst() { #expect(try Self.row(database, host).lastSeen == 7000) }
        // The failed report wrote nothing: no package row, no audit event, not even last_seen.
        #expect(try Self.row(database, reporter).lastSeen == nil)
        #expect(try database.hostDetail(reporter, nowMs: 7000, staleAfterMs: 60_000)?.installed.isEmpty == true)
        #expect(try database.auditEvents(hostID: reporter).allSatisfy { $0.kind != "inventory.changed" })
    }

    @Test func aReportCommittedTogetherIsRecordedAsAlone() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try Self.fleet(10, in: directory)
        let report = Fixtures.report()
        let recorded = try await withThrowingTaskGroup(of: Bool.self) { group in
            for host in hosts { group.addTask { try await database.commitReport(host: host, report: report, nowMs: 3000).changed } }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(recorded.allSatisfy { $0 })
        for host in hosts {
            #expect(try database.hostDetail(host, nowMs: 3000, staleAfterMs: 60_000)?.installed == report.installed)
            #expect(try database.auditEvents(hostID: host).filter { $0.kind == "inventory.changed" }.count == 1)
        }
        // The audit chain, written by interleaved items of one transaction, still verifies.
        #expect(try database.verifyAudit().problem == nil)
    }

    @Test func aHealthChangeInABatchIsAuditedOnceEach() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try Self.fleet(5, in: directory)
        let before = try database.auditEvents().filter { $0.kind == "host.unhealthy" }.count
        try await withThrowingTaskGroup(of: Void.self) { group in
            for host in hosts { group.addTask { _ = try await database.commitHealth(HealthBeat(host: host, healthy: false, detail: "down", nowMs: 9000)) } }
            try await group.waitForAll()
        }
        #expect(try database.auditEvents().filter { $0.kind == "host.unhealthy" }.count == before + hosts.count)
    }

    static func synchronousLevel(_ db: Database) throws -> Int { try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }

    @Test func unsyncedWritesCommitWithoutWaitingForTheDiskAndTheConnectionIsPutBack() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try Self.fleet(1, in: directory)
        let committer = GroupCommit(writer: database.writer)
        // 1 is NORMAL (the log is not synced at commit), 2 FULL.
        let unsynced = try await committer.perform(synced: false) { db in
            try db.execute(sql: "UPDATE hosts SET last_seen_at_ms = 7000 WHERE id = ?", arguments: [hosts[0].rawValue])
            return try Self.synchronousLevel(db)
        }
        #expect(unsynced == 1)
        #expect(committer.unsyncedTransactions == 1)
        #expect(try Self.row(database, hosts[0]).lastSeen == 7000)
        // Anything written next on the connection, in or out of group commit, is synced again.
        #expect(try await database.writer.write { try Self.synchronousLevel($0) } == 2)
        #expect(try await committer.perform { try Self.synchronousLevel($0) } == 2)
        #expect(committer.unsyncedTransactions == 1)
    }

    @Test func aBatchWithOneSyncedWriteIsSyncedWhole() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, _) = try Self.fleet(1, in: directory)
        let committer = GroupCommit(writer: database.writer)
        let before = committer.transactions
        // The first write holds its transaction until both others are queued behind it.
        let first = try await Self.holdingWrite(committer, synced: false, untilQueued: 2)
        async let unsynced = committer.perform(synced: false) { try Self.synchronousLevel($0) }
        while committer.queued < 1 { try await Task.sleep(for: .milliseconds(1)) }
        async let synced = committer.perform(synced: true) { try Self.synchronousLevel($0) }
        #expect(try await first.value == -1)
        #expect(try await unsynced == 2)
        #expect(try await synced == 2)
        #expect(committer.transactions == before + 2)
        #expect(committer.unsyncedTransactions == 1, "only the first write's own transaction")
    }

    @Test func aFailedUnsyncedBatchStillPutsTheConnectionBack() async throws {
        struct Refused: Error {}
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try Self.fleet(1, in: directory)
        let committer = GroupCommit(writer: database.writer)
        // The transaction itself ends (as when SQLite rolls it back): the whole batch fails.
        await #expect(throws: Refused.self) {
            try await committer.perform(synced: false) { db in
                try db.execute(sql: "UPDATE hosts SET last_seen_at_ms = 4242 WHERE id = ?", arguments: [hosts[0].rawValue])
                try db.execute(sql: "ROLLBACK")
                throw Refused()
            }
        }
        #expect(try Self.row(database, hosts[0]).lastSeen != 4242)
        #expect(try await database.writer.writeWithoutTransaction { try Self.synchronousLevel($0) } == 2)
    }

    @Test func theWriterWaitsForTheDiskFromTheStart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, _) = try Self.fleet(1, in: directory)
        // GRDB sets the writer to NORMAL when it turns WAL on; `open` puts FULL back.
        #expect(try await database.writer.writeWithoutTransaction { try Self.synchronousLevel($0) } == 2)
        let reopened = try SluiceDatabase.open(path: directory.file("sluice.sqlite"), nowMs: 3)
        #expect(try await reopened.writer.writeWithoutTransaction { try Self.synchronousLevel($0) } == 2)
    }

    @Test func onlyAHeartbeatThatChangesNothingButTheTimeIsCommittedWithoutWaitingForTheDisk() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (database, hosts) = try Self.fleet(2, in: directory)
        let committer = database.committer
        func synced() -> Int { committer.transactions - committer.unsyncedTransactions }
        // The first healthy heartbeat changes the host's health (unknown -> healthy, audited):
        // the unsynced attempt writes nothing and the change is written in a synced batch.
        #expect(try await database.commitHealth(HealthBeat(host: hosts[0], healthy: true, detail: "ok", nowMs: 9000)))
        #expect(synced() == 1)
        #expect(try database.auditEvents().contains { $0.kind == "host.healthy" && $0.hostID == hosts[0].rawValue })
        // The next one changes only the time: unsynced alone.
        #expect(try await database.commitHealth(HealthBeat(host: hosts[0], healthy: true, detail: "still ok", nowMs: 9100)) == false)
        #expect(synced() == 1)
        #expect(try Self.row(database, hosts[0]).lastSeen == 9100)
        // A failing heartbeat and a report wait for the disk.
        _ = try await database.commitHealth(HealthBeat(host: hosts[1], healthy: false, detail: "down", nowMs: 9001))
        #expect(synced() == 2)
        _ = try await database.commitReport(host: hosts[0], report: Fixtures.report(), nowMs: 9002)
        #expect(synced() == 3)
        #expect(try Self.row(database, hosts[1]).healthy == false)
        // An unknown host is refused as before, having written nothing.
        await #expect(throws: StoreError.self) {
            _ = try await database.commitHealth(HealthBeat(host: Fixtures.host("nobody"), healthy: true, detail: "ok", nowMs: 9003))
        }
    }
}
