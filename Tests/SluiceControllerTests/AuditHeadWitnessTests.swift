import Foundation
import Logging
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceController

@Suite("The audit chain's head, witnessed beside the database")
struct AuditHeadWitnessTests {
    @Test func theWitnessRecordsTheHeadAsItMovesAndNeverOverwritesOneTheChainLost() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = ManualWallClock(nowMs: 1_800_000_000_000)
        let database = try SluiceDatabase.open(path: dir.file("sluice.sqlite"), nowMs: clock.nowMs())
        let witness = AuditHeadWitness(database: database, clock: clock, logger: Logger(label: "test"))
        _ = try database.createOperatorToken(name: "a", role: .admin, expiresAtMs: nil, actor: .local("root"), nowMs: clock.nowMs())
        _ = try database.createOperatorToken(name: "b", role: .admin, expiresAtMs: nil, actor: .local("root"), nowMs: clock.nowMs())
        #expect(witness.witness() == nil)
        let first = try #require(try SluiceDatabase.witnessedHead(databasePath: database.path))
        #expect(first.seq == (try database.auditHead())?.seq && first.atMs == clock.nowMs())
        let attributes = try FileManager.default.attributesOfItem(atPath: SluiceDatabase.witnessedHeadPath(for: database.path))
        #expect(attributes[.posixPermissions] as? Int == 0o600)

        clock.advance(byMs: 60_000)
        _ = try database.createOperatorToken(name: "c", role: .viewer, expiresAtMs: nil, actor: .local("root"), nowMs: clock.nowMs())
        #expect(witness.witness() == nil)
        let second = try #require(try SluiceDatabase.witnessedHead(databasePath: database.path))
        #expect(second.seq == first.seq + 1)

        // The newest row deleted behind the controller's back, counter reset: reported, and the
        // witnessed head is kept as the evidence.
        try SQLiteShell.run(
            database.path,
            "DROP TRIGGER audit_events_are_never_deleted; DELETE FROM audit_events WHERE seq = \(second.seq); UPDATE sqlite_sequence SET seq = \(second.seq - 1) WHERE name = 'audit_events';"
        )
        let problem = try #require(witness.witness())
        #expect(problem.kind == .deleted && problem.seq == second.seq)
        #expect(try SluiceDatabase.witnessedHead(databasePath: database.path) == second)
    }

    @Test func aWitnessedHeadInsideAnArchivedRangeMovesOnToTheLiveHead() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = ManualWallClock(nowMs: 1_800_000_000_000)
        let database = try SluiceDatabase.open(path: dir.file("sluice.sqlite"), nowMs: clock.nowMs())
        let witness = AuditHeadWitness(database: database, clock: clock, logger: Logger(label: "test"))
        for name in ["a", "b", "c", "d"] {
            _ = try database.createOperatorToken(name: name, role: .admin, expiresAtMs: nil, actor: .local("root"), nowMs: clock.nowMs())
        }
        #expect(witness.witness() == nil)
        #expect(try SluiceDatabase.witnessedHead(databasePath: database.path)?.seq == 4)

        // Archived by `sluiced audit archive` while the controller runs: the head witnessed
        // earlier is in the archive now, and the witness follows the chain to its new head.
        _ = try database.archiveAudit(.throughSeq(4), to: dir.file("audit-1.ndjson"), actor: .local("root"), nowMs: clock.nowMs())
        clock.advance(byMs: 60_000)
        #expect(witness.witness() == nil)
        let moved = try #require(try SluiceDatabase.witnessedHead(databasePath: database.path))
        let head = try #require(try database.auditHead())
        #expect(moved.seq == 5 && moved.hash == head.hash)
        #expect(try database.verifyAudit(heads: [moved]).intact)
    }
}
