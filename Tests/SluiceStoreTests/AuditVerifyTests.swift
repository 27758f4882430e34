import SluiceTestSupport
import Foundation
import GRDB
import SluiceCore
import Testing

@testable import SluiceStore

@Suite("Audit: verifying the hash chain")
struct AuditVerifyTests {
    /// Same columns, for statements that move rows around.
    static let columns = "at_ms, actor, kind, rollout_id, wave, host_id, region, group_key, package, details, prev_hash, hash"

    @Test func theFastScanHashesExactlyTheCanonicalBytes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 240)
        // The reference: the slow path, event by event, from AuditEvent.canonicalBytes.
        let records = try database.auditPage(AuditQuery(limit: 1000)).records
        var previous = Data(count: 32)
        for record in records {
            #expect(record.prevHash == LowercaseHex.encode(previous))
            previous = AuditChain.hash(previous: previous, event: record.event)
            #expect(record.hash == LowercaseHex.encode(previous), "seq \(record.event.seq)")
        }
        let result = try database.verifyAudit(workers: 1)
        #expect(result.intact)
        #expect(result.rows == 240 && result.firstSeq == 1 && result.lastSeq == 240)
        #expect(result.headHash == records.last?.hash)
    }

    /// Each way of tampering, behind the store's back, and the row it must name.
    static let tamperings: [(String, [String], AuditChainProblem.Kind, Int64)] = [
        ("edit", ["UPDATE audit_events SET actor = 'operator:mallory' WHERE seq = 57"], .edited, 57),
        ("edit details", ["UPDATE audit_events SET details = '{\"detail\":\"nothing happened\"}' WHERE seq = 1"], .edited, 1),
        ("delete", ["DELETE FROM audit_events WHERE seq = 57"], .deleted, 57),
        ("delete the first", ["DELETE FROM audit_events WHERE seq = 1"], .deleted, 1),
        ("delete the newest", ["DELETE FROM audit_events WHERE seq >= 119"], .deleted, 119),
        ("delete and renumber", ["DELETE FROM audit_events WHERE seq = 57", "UPDATE audit_events SET seq = seq - 1 WHERE seq > 57"], .deleted, 57),
        (
            "insert at the end",
            ["INSERT INTO audit_events (seq, at_ms, actor, kind, prev_hash, hash) VALUES (121, 1, 'operator:mallory', 'rollout.aborted', zeroblob(32), zeroblob(32))"],
            .inserted, 121
        ),
        (
            "insert in the middle",
            [
                "UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 57", "UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1057",
                "INSERT INTO audit_events (seq, \(columns)) SELECT 57, at_ms, 'operator:mallory', kind, rollout_id, wave, host_id, region, group_key, package, details, prev_hash, hash FROM audit_events WHERE seq = 58",
            ], .inserted, 57
        ),
        (
            "reorder",
            ["UPDATE audit_events SET seq = -57 WHERE seq = 57", "UPDATE audit_events SET seq = 57 WHERE seq = 58", "UPDATE audit_events SET seq = 58 WHERE seq = -57"],
            .reordered, 57
        ),
    ]

    @Test(arguments: 0..<tamperings.count) func tamperingIsNamedAtTheRightRow(_ index: Int) throws {
        let (name, sql, kind, seq) = Self.tamperings[index]
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 120)
        #expect(try database.verifyAudit().intact)
        try AuditFixtures.tamper(database, sql)
        for workers in [1, 3] {
            let problem = try database.verifyAudit(workers: workers, parallelAbove: 10).problem
            #expect(problem?.kind == kind, "\(name), \(workers) worker(s): \(String(describing: problem))")
            #expect(problem?.seq == seq, "\(name), \(workers) worker(s): \(String(describing: problem))")
        }
        #expect(try database.verifyAuditChain()?.seq == seq)
    }

    @Test func parallelChunksStitchAtEveryBoundary() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 1000)
        // 4 workers cut 1...1000 into 8 chunks of 125: tamper with each chunk's first and last rows.
        let intact = try database.verifyAudit(workers: 4, parallelAbove: 10)
        #expect(intact.intact && intact.rows == 1000)
        #expect(intact.headHash == (try database.verifyAudit(workers: 1)).headHash)
        // Copies of the file need the write-ahead log folded in first.
        try database.writer.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
        for seq in [126, 250, 251, 875, 876, 1000] as [Int64] {
            let copy = dir.file("copy-\(seq).sqlite")
            try FileManager.default.copyItem(atPath: dir.file("audit.sqlite"), toPath: copy)
            let tampered = try SluiceDatabase.open(path: copy, nowMs: 0)
            try AuditFixtures.tamper(tampered, "UPDATE audit_events SET at_ms = at_ms + 1 WHERE seq = \(seq)")
            let problem = try tampered.verifyAudit(workers: 4, parallelAbove: 10).problem
            #expect(problem?.seq == seq && problem?.kind == .edited, "\(seq): \(String(describing: problem))")
            let deleted = dir.file("deleted-\(seq).sqlite")
            try FileManager.default.copyItem(atPath: dir.file("audit.sqlite"), toPath: deleted)
            let gap = try SluiceDatabase.open(path: deleted, nowMs: 0)
            try AuditFixtures.tamper(gap, "DELETE FROM audit_events WHERE seq = \(seq)")
            let missing = try gap.verifyAudit(workers: 4, parallelAbove: 10).problem
            #expect(missing?.seq == seq && missing?.kind == .deleted, "\(seq): \(String(describing: missing))")
        }
    }

    @Test func truncatingTheEndAndResettingSQLitesCounterIsFoundByTheWitnessedHead() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 120)
        let head = try #require(try database.auditHead())
        #expect(head.seq == 120)
        try SluiceDatabase.witness(AuditHead(seq: head.seq, hash: head.hash, atMs: 1_800_000_000_000), databasePath: database.path)
        let witnessed = try #require(try SluiceDatabase.witnessedHead(databasePath: database.path))
        #expect(witnessed.seq == 120 && witnessed.hash == head.hash)
        #expect(try database.verifyAudit(heads: [witnessed]).intact)

        // The probe's tampering: the newest rows deleted and SQLite's counter put back.
        try AuditFixtures.tamper(database, "DELETE FROM audit_events WHERE seq > 115", "UPDATE sqlite_sequence SET seq = 115 WHERE name = 'audit_events'")
        #expect(try database.verifyAudit().intact, "the chain alone cannot tell: the head is what finds it")
        let problem = try #require(try database.verifyAudit(heads: [witnessed]).problem)
        #expect(problem.kind == .deleted && problem.seq == 116 && problem.lastSeq == 120, "\(problem)")
        #expect(problem.message == "rows 116...120, the newest, are missing (truncated): the head recorded 2027-01-15T08:00:00.000Z reached seq 120", "\(problem)")
    }

    @Test func aHeadWhoseRowNowHasAnotherHashIsReportedRewritten() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 20)
        let other = String(repeating: "ab", count: 32)
        let problem = try #require(try database.verifyAudit(heads: [AuditHead(seq: 7, hash: other)]).problem)
        #expect(problem.kind == .rewritten && problem.seq == 7, "\(problem)")
        #expect(problem.message.hasSuffix("not \(other) as the head says: the chain was rewritten from there or before"), "\(problem.message)")
        for bad in ["7", "0:\(other)", "7:\(other.uppercased())", "07:\(other)", "7:abc"] {
            #expect(throws: InvalidInput.self, "\(bad)") { try AuditHead(parsing: bad) }
        }
    }

    @Test func anEmptiedLogIsNotAnEmptyOne() throws {
        let database = try SluiceDatabase.inMemory()
        #expect(try database.verifyAudit().intact)
        try database.appendAuditEvents(AuditFixtures.events(3))
        try AuditFixtures.tamper(database, "DELETE FROM audit_events")
        let problem = try database.verifyAudit().problem
        #expect(problem?.kind == .deleted && problem?.seq == 1 && problem?.lastSeq == 3)
    }

    @Test func numbersAreWrittenAsStringWouldWriteThem() {
        for value in [0, 7, -1, 10, 1_721_779_200_000, Int64.max, Int64.min] as [Int64] {
            var bytes = CanonicalBytes()
            bytes.number(value)
            let text = String(value)
            let length = UInt32(text.utf8.count)
            #expect(bytes.bytes == [0, 0, UInt8(length >> 8), UInt8(length & 0xFF)] + Array(text.utf8), "\(value)")
        }
    }
}
