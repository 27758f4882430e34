import SluiceTestSupport
import Foundation
import GRDB
import SluiceCore
import Testing

@testable import SluiceStore

@Suite("Audit: archiving the oldest events with their verified head")
struct AuditArchiveTests {
    static let nowMs: Int64 = 1_800_000_000_000

    static func count(_ database: SluiceDatabase) throws -> Int {
        try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_events") ?? 0 }
    }

    @Test func archivedThenVerifiedFromTheAnchorTheArchiveAloneAndBothTogether() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 120)
        let row50 = try #require(try database.auditPage(AuditQuery(throughSeq: 50, limit: 1, take: .last)).records.first)

        let anchor = try database.archiveAudit(.throughSeq(50), to: dir.file("one.ndjson"), actor: .local("root"), nowMs: Self.nowMs)
        #expect(anchor.firstSeq == 1 && anchor.throughSeq == 50 && anchor.hash == row50.hash)
        let digest = try SluiceDatabase.sha256(ofFile: dir.file("one.ndjson"))
        #expect(anchor.file == dir.file("one.ndjson") && anchor.fileSHA256 == digest)
        #expect(try database.auditAnchor() == anchor)
        #expect(!FileManager.default.fileExists(atPath: dir.file("one.ndjson.partial")))

        // The live log: rows 51...120 and the audit.archived event, verified from the anchor.
        let live = try database.verifyAudit(workers: 1)
        #expect(live.intact && live.firstSeq == 51 && live.lastSeq == 121 && live.rows == 71, "\(live.summary)")
        #expect(try database.verifyAudit(workers: 4, parallelAbove: 10).intact)
        let event = try #require(try database.auditPage(AuditQuery(kind: "audit.archived", limit: 5)).records.first?.event)
        #expect(event.seq == 121 && event.actor == "local:root")
        #expect(AuditDetails(event.details)["throughSeq"] == "50" && AuditDetails(event.details)["sha256"] == anchor.fileSHA256)
        #expect(AuditWording.sentence(event) == "local:root archived audit events seq 1...50 to \(anchor.file) (sha256 \(anchor.fileSHA256))")

        // The archive verifies alone, and with the database proves the chain from seq 1.
        let alone = try SluiceDatabase.verifyAuditExport(path: anchor.file)
        #expect(alone.intact && alone.rows == 50 && alone.firstSeq == 1 && alone.lastSeq == 50 && alone.headHash == anchor.hash, "\(alone.summary)")
        #expect(try SluiceDatabase.verifyAuditArchives(paths: [anchor.file], anchor: anchor).intact)

        // A second archive starts at the first anchor; both files, in any order, reach the second.
        try database.appendAuditEvents(AuditFixtures.events(10, startMs: Self.nowMs))
        let second = try database.archiveAudit(.throughSeq(100), to: dir.file("two.ndjson"), actor: .local("root"), nowMs: Self.nowMs + 1)
        #expect(second.firstSeq == 51 && second.throughSeq == 100)
        #expect(try SluiceDatabase.verifyAuditExport(path: second.file).intact)
        #expect(try SluiceDatabase.verifyAuditArchives(paths: [second.file, anchor.file], anchor: second).intact)
        let gap = try SluiceDatabase.verifyAuditArchives(paths: [anchor.file], anchor: second).problem
        #expect(gap?.kind == .unlinked, "the first archive alone does not reach the second anchor: \(String(describing: gap))")
        let missing = try SluiceDatabase.verifyAuditArchives(paths: [second.file], anchor: nil).problem
        #expect(missing?.message.contains("no archive anchor") == true)
        #expect(try database.verifyAudit().intact)
        try database.appendAuditEvents(AuditFixtures.events(3, startMs: Self.nowMs + 10_000))
        let after = try database.verifyAudit()
        #expect(after.intact && after.firstSeq == 101 && after.lastSeq == 135, "\(after.summary)")
    }

    @Test func onlyArchivedRowsCanBeDeletedEvenThroughSQLite() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 30)
        _ = try database.archiveAudit(.throughSeq(10), to: dir.file("a.ndjson"), actor: .local("root"), nowMs: Self.nowMs)
        #expect(throws: DatabaseError.self) { try database.writer.write { db in try db.execute(sql: "DELETE FROM audit_events WHERE seq = 11") } }
        #expect(throws: DatabaseError.self) { try database.writer.write { db in try db.execute(sql: "DELETE FROM audit_archives") } }
        #expect(try Self.count(database) == 21)
    }

    @Test func archivingEveryRowLeavesTheLogGoingOnFromTheAnchor() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 12)
        _ = try database.archiveAudit(.beforeMs(Self.nowMs), to: dir.file("all.ndjson"), actor: .local("root"), nowMs: Self.nowMs)
        #expect(try Self.count(database) == 1, "only the audit.archived event")
        try database.appendAuditEvents(AuditFixtures.events(2, startMs: Self.nowMs))
        let result = try database.verifyAudit()
        #expect(result.intact && result.firstSeq == 13 && result.lastSeq == 15, "\(result.summary)")
    }

    /// Tampering after an archive, and the row it must name.
    static let tamperings: [(String, [String], AuditChainProblem.Kind, Int64)] = [
        ("edit", ["UPDATE audit_events SET actor = 'operator:mallory' WHERE seq = 57"], .edited, 57),
        ("edit the first live row", ["UPDATE audit_events SET details = '{}' WHERE seq = 51"], .edited, 51),
        ("delete the first live row", ["DELETE FROM audit_events WHERE seq = 51"], .deleted, 51),
        ("delete more than was archived", ["DELETE FROM audit_events WHERE seq <= 60"], .deleted, 51),
        ("delete the audit.archived event", ["DELETE FROM audit_events WHERE kind = 'audit.archived'"], .deleted, 121),
        (
            "delete under an anchor made by hand",
            [
                "INSERT INTO audit_archives (first_seq, through_seq, hash, file, file_sha256, actor, archived_at_ms) SELECT 51, 60, hash, '/dev/null', printf('%064d', 0), 'local:mallory', 0 FROM audit_events WHERE seq = 60",
                "DELETE FROM audit_events WHERE seq <= 60",
            ], .deleted, 51
        ),
        ("forge the anchor's hash", ["DROP TRIGGER audit_archives_are_never_updated", "UPDATE audit_archives SET hash = zeroblob(32)"], .unlinked, 51),
    ]

    @Test(arguments: 0..<tamperings.count) func tamperingAfterAnArchiveIsNamedAtTheRightRow(_ index: Int) throws {
        let (name, sql, kind, seq) = Self.tamperings[index]
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 120)
        _ = try database.archiveAudit(.throughSeq(50), to: dir.file("a.ndjson"), actor: .local("root"), nowMs: Self.nowMs)
        try AuditFixtures.tamper(database, sql)
        for workers in [1, 4] {
            let problem = try #require(try database.verifyAudit(workers: workers, parallelAbove: 10).problem, "\(name)")
            #expect(problem.kind == kind && problem.seq == seq, "\(name), \(workers) workers: \(problem)")
        }
    }

    @Test func aBrokenChainIsNotArchivedAndNothingChanges() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 80)
        try AuditFixtures.tamper(database, "UPDATE audit_events SET actor = 'operator:mallory' WHERE seq = 30")
        let file = dir.file("a.ndjson")
        do {
            _ = try database.archiveAudit(.throughSeq(50), to: file, actor: .local("root"), nowMs: Self.nowMs)
            Issue.record("archived a broken chain")
        } catch let error as StoreError {
            #expect(error.description.contains("refusing to archive: audit chain broken at seq 30: row 30 was edited"), "\(error)")
            #expect(!error.description.contains("\n"))
        }
        #expect(try Self.count(database) == 80)
        #expect(try database.auditAnchor() == nil)
        #expect(!FileManager.default.fileExists(atPath: file) && !FileManager.default.fileExists(atPath: file + ".partial"))
    }

    @Test func aLimitThatSelectsNothingIsRefusedInOneLineNamingItAndNothingChanges() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 40)
        _ = try database.archiveAudit(.throughSeq(10), to: dir.file("a.ndjson"), actor: .local("root"), nowMs: Self.nowMs)
        let cases: [(SluiceDatabase.AuditArchiveLimit, String)] = [
            (.throughSeq(500), "seq 500 is past the end of the log, which ends at seq 41"),
            (.throughSeq(5), "seq 5 is before the live log, which starts at seq 11; seq 1...10 is archived already"),
            (.beforeMs(1_000), "no live event is before 1970-01-01T00:00:01.000Z: the oldest, seq 11, is from 2024-07-24T00:00:10.000Z; seq 1...10 is archived already"),
        ]
        for (limit, message) in cases {
            let file = dir.file("b.ndjson")
            #expect(throws: SluiceDatabase.AuditArchiveLimitError.self) { _ = try database.archiveAudit(limit, to: file, actor: .local("root"), nowMs: Self.nowMs) }
            do { _ = try database.archiveAudit(limit, to: file, actor: .local("root"), nowMs: Self.nowMs) } catch {
                #expect("\(error)" == message)
            }
            #expect(!FileManager.default.fileExists(atPath: file))
        }
        #expect(try Self.count(database) == 31)
        #expect(try database.auditAnchor()?.throughSeq == 10)
    }

    @Test func aRunStoppedAfterWritingTheFileChangedNothingAndRunsAgain() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 60)
        let file = dir.file("a.ndjson")
        // What a run does before its transaction, and nothing after.
        let header = try database.writer.read { db in try SluiceDatabase.archiveHeader(db, .throughSeq(20), anchor: nil, nowMs: Self.nowMs) }
        try database.writeArchive(header: header, to: file)
        #expect(try Self.count(database) == 60)
        #expect(try database.auditAnchor() == nil)
        #expect(try database.verifyAudit().intact)

        // Another range is not written over the file; the same range uses it as it is.
        #expect(throws: StoreError.self) { _ = try database.archiveAudit(.throughSeq(21), to: file, actor: .local("root"), nowMs: Self.nowMs) }
        let digest = try SluiceDatabase.sha256(ofFile: file)
        let anchor = try database.archiveAudit(.throughSeq(20), to: file, actor: .local("root"), nowMs: Self.nowMs + 5)
        #expect(anchor.throughSeq == 20 && anchor.fileSHA256 == digest)
        #expect(try database.verifyAudit().intact)
    }

    @Test func aFailureInsideTheTransactionRollsEverythingBack() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 60)
        try database.writer.write { db in
            try db.execute(sql: "CREATE TRIGGER fail_archive BEFORE INSERT ON audit_archives BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
        }
        #expect(throws: DatabaseError.self) { _ = try database.archiveAudit(.throughSeq(20), to: dir.file("a.ndjson"), actor: .local("root"), nowMs: Self.nowMs) }
        #expect(try Self.count(database) == 60)
        #expect(try database.auditAnchor() == nil)
        #expect(try database.auditPage(AuditQuery(kind: "audit.archived", limit: 5)).records.isEmpty)
        #expect(try database.verifyAudit().intact)
    }

    @Test func witnessedHeadsKeepWorkingAcrossAnArchive() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 80)
        let old = try #require(try database.auditPage(AuditQuery(throughSeq: 40, limit: 1, take: .last)).records.first)
        let anchor = try database.archiveAudit(.throughSeq(50), to: dir.file("a.ndjson"), actor: .local("root"), nowMs: Self.nowMs)
        // A head inside the archive is the archive's to prove; the one ending it is the anchor.
        #expect(try database.verifyAudit(heads: [AuditHead(seq: 40, hash: old.hash)]).intact)
        #expect(try database.verifyAudit(heads: [AuditHead(seq: 50, hash: anchor.hash)]).intact)
        let rewritten = try database.verifyAudit(heads: [AuditHead(seq: 50, hash: String(repeating: "ab", count: 32))]).problem
        #expect(rewritten?.kind == .rewritten && rewritten?.seq == 50)
        // Truncation of the live end is still found by the head.
        let head = try #require(try database.auditHead())
        try AuditFixtures.tamper(database, "DELETE FROM audit_events WHERE seq > 75", "UPDATE sqlite_sequence SET seq = 75 WHERE name = 'audit_events'")
        let truncated = try database.verifyAudit(heads: [head]).problem
        #expect(truncated?.kind == .deleted && truncated?.seq == 76, "\(String(describing: truncated))")
    }

    @Test func aPostmortemOfAPartlyArchivedRolloutSaysWhereTheRestIs() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try SluiceDatabase.open(path: dir.file("audit.sqlite"), nowMs: 0)
        let start: Int64 = 1_721_779_200_000
        try database.appendAuditEvents([
            AuditEvent(atMs: start, actor: "operator:alice", kind: "rollout.created", rolloutID: 7, package: "bind9=2", details: "{\"policy\":\"dns\"}"),
            AuditEvent(atMs: start + 1000, actor: "operator:alice", kind: "rollout.created", rolloutID: 8, package: "bind9=2", details: "{\"policy\":\"dns\"}"),
            AuditEvent(atMs: start + 2000, actor: "controller", kind: "wave.started", rolloutID: 7, wave: "canary"),
            AuditEvent(atMs: start + 3000, actor: "controller", kind: "rollout.completed", rolloutID: 7),
        ])
        let anchor = try database.archiveAudit(.throughSeq(2), to: dir.file("a.ndjson"), actor: .local("root"), nowMs: Self.nowMs)
        let history = try database.rolloutHistory(7)
        #expect(history.archived == anchor && history.events.map(\.seq) == [3, 4])
        let markdown = Postmortem(history: history).markdown(zone: TimeZone(identifier: "UTC")!, slo: 99.9)
        #expect(markdown.contains("**Incomplete:** this rollout's first events are not in the log: events through seq 2 are archived in \(anchor.file)"), "\(markdown)")
        do {
            _ = try database.rolloutHistory(8)
            Issue.record("a history of an archived rollout")
        } catch let error as StoreError {
            #expect(error.description.contains("holds nothing about rollout 8 after seq 2: events through seq 2 are archived in \(anchor.file)"), "\(error)")
        }
    }
}
