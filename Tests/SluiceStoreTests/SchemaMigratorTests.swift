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
