import SluiceTestSupport
import Foundation
import GRDB
import Testing

@testable import SluiceStore

@Suite("Schema migrations")
struct SchemaMigratorTests {
    @Test func aFreshDatabaseGetsTheFullSchemaInWALModeWithForeignKeys() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try SluiceDatabase.open(path: dir.file("s.sqlite"), nowMs: 1)
        #expect(try database.appliedMigrations() == EmbeddedMigration.shipped.map(\.identifier))
        let (tables, journal, foreignKeys) = try database.writer.read { db in
            (
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"),
                try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                try Bool.fetchOne(db, sql: "PRAGMA foreign_keys")
            )
        }
        for table in ["audit_events", "candidate_origins", "credentials", "host_labels", "hosts", "installed_packages", "sluice_schema", "upgrade_candidates"] {
            #expect(tables.contains(table), "missing table \(table)")
        }
        #expect(journal == "wal")
        #expect(foreignKeys == true)
    }

    @Test func upgradingTo0006MarksPreflightRefusalsRefusedKeepsEveryOtherAssignmentAndNeverReusesAnId() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("s.sqlite")
        do {
            // As Sluice with migrations up to 0005 left it: two finished rollouts' assignments,
            // one refused by its preflight, one rolled back after a real install; assignment 9
            // existed once and was deleted with its host.
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: SchemaMigrator.ledgerSQL)
                for migration in EmbeddedMigration.shipped where migration.number <= 5 {
                    try db.execute(sql: migration.sql)
                    try db.execute(sql: "INSERT INTO sluice_schema VALUES (?, ?, ?, 0)", arguments: [migration.number, migration.name, migration.sha256])
                }
                try db.execute(
                    sql: """
                        INSERT INTO hosts (id, enrolled_at_ms) VALUES ('dns1', 0), ('dns2', 0), ('gone', 0);
                        INSERT INTO rollouts (id, policy_name, policy, state, created_at_ms, created_by, updated_at_ms)
                            VALUES (1, 'dns', '{}', 'halted', 0, 'controller', 0);
                        INSERT INTO waves (rollout_id, idx, name, state) VALUES (1, 0, 'canary', 'failed');
                        INSERT INTO assignments (id, rollout_id, host_id, wave_idx, batch, capacity_key, packages, state, outcome, updated_at_ms) VALUES
                            (5, 1, 'dns1', 0, 0, 'dns@fra', '[]', 'rolled-back', 'preflight-failed', 0),
                            (7, 1, 'dns2', 0, 0, 'dns@ams', '[]', 'rolled-back', 'rolled-back-before-restart', 0),
                            (9, 1, 'gone', 0, 0, 'dns@ams', '[]', 'succeeded', 'succeeded', 0);
                        DELETE FROM hosts WHERE id = 'gone';
                        """)
            }
            try queue.close()
        }
        let database = try SluiceDatabase.open(path: path, nowMs: 5)
        let (states, next) = try database.writer.write { db -> ([String], Int64) in
            let states = try Row.fetchAll(db, sql: "SELECT id, state FROM assignments ORDER BY id").map { "\($0["id"] as Int64) \($0["state"] as String)" }
            try db.execute(
                sql: """
                    INSERT INTO hosts (id, enrolled_at_ms) VALUES ('dns3', 0);
                    INSERT INTO assignments (rollout_id, host_id, wave_idx, batch, capacity_key, packages, state, updated_at_ms)
                    VALUES (1, 'dns3', 0, 1, 'dns@fra', '[]', 'refused', 0)
                    """)
            return (states, db.lastInsertedRowID)
        }
        #expect(states == ["5 refused", "7 rolled-back"])
        #expect(next == 10, "the new table does not continue the old one's ids")
        let indexes = try database.writer.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'assignments' AND name NOT LIKE 'sqlite_%' ORDER BY name") }
        // 0006's rebuild kept its indexes; 0008 (reverts) added the last.
        #expect(indexes == ["assignments_by_capacity", "assignments_by_host", "assignments_by_reverted"])
    }

    @Test func openingAgainAppliesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("s.sqlite")
        _ = try SluiceDatabase.open(path: path, nowMs: 1)
        let again = try SluiceDatabase.open(path: path, nowMs: 2)
        let rows = try again.writer.read { try Row.fetchAll($0, sql: "SELECT number, applied_at_ms FROM sluice_schema") }
        #expect(rows.count == EmbeddedMigration.shipped.count)
        #expect(rows.allSatisfy { ($0["applied_at_ms"] as Int64) == 1 }, "a migration was applied twice")
    }

    @Test func aDatabaseFromANewerSluiceIsRefusedAndLeftByteForByteUntouched() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("s.sqlite")
        do {
            // As a newer sluiced would leave it: WAL mode, cleanly closed.
            let queue = try DatabaseQueue(path: path)
            try queue.writeWithoutTransaction { _ = try String.fetchOne($0, sql: "PRAGMA journal_mode = WAL") }
            try queue.write { db in
                try db.execute(sql: SchemaMigrator.ledgerSQL)
                for migration in EmbeddedMigration.shipped {
                    try db.execute(sql: migration.sql)
                    try db.execute(
                        sql: "INSERT INTO sluice_schema VALUES (?, ?, ?, 0)", arguments: [migration.number, migration.name, migration.sha256])
                }
                try db.execute(sql: "INSERT INTO sluice_schema VALUES (9999, 'from_the_future', 'x', 0)")
            }
            try queue.close()
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect {
            _ = try SluiceDatabase.open(path: path, nowMs: 5)
        } throws: { error in
            "\(error)".contains("9999_from_the_future") && "\(error)".contains("newer") && "\(error)".contains("nothing was changed")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        // SQLite may leave an empty WAL sidecar from the read-only look; never content.
        let wal = try? FileManager.default.attributesOfItem(atPath: path + "-wal")
        #expect((wal?[.size] as? Int ?? 0) == 0)
    }

    @Test func aDatabaseWhoseAppliedMigrationWasEditedIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("s.sqlite")
        let database = try SluiceDatabase.open(path: path, nowMs: 1)
        try database.writer.write { try $0.execute(sql: "UPDATE sluice_schema SET sha256 = 'edited' WHERE number = 1") }
        #expect {
            _ = try SluiceDatabase.open(path: path, nowMs: 2)
        } throws: { "\($0)".contains("differs from the one in this binary") }
    }

    @Test func aFileThatIsNotASluiceDatabaseIsRefusedUntouched() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let foreign = dir.file("other.sqlite")
        do {
            let queue = try DatabaseQueue(path: foreign)
            try queue.write { try $0.execute(sql: "CREATE TABLE customers (id INTEGER)") }
            try queue.close()
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: foreign))
        #expect { _ = try SluiceDatabase.open(path: foreign, nowMs: 1) } throws: { "\($0)".contains("not a Sluice database") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: foreign)) == before)

        let text = dir.file("notes.txt")
        try Data("hello, this is not SQLite at all, just some text long enough".utf8).write(to: URL(fileURLWithPath: text))
        #expect { _ = try SluiceDatabase.open(path: text, nowMs: 1) } throws: { "\($0)".contains("not an SQLite database") }
        #expect(try String(contentsOfFile: text, encoding: .utf8).hasPrefix("hello"))
    }

    @Test func everyShippedMigrationIsNumberedInOrderWithoutGaps() {
        let numbers = EmbeddedMigration.shipped.map(\.number)
        #expect(numbers == Array(1...numbers.count))
    }
}
