import Crypto
import Foundation
import GRDB

/// Applies the embedded SQL migrations in order, one transaction each, and records them in
/// `sluice_schema`. A database that carries a migration this binary does not know (written
/// by a newer Sluice) or whose applied SQL differs from the shipped one is refused before
/// anything is written.
struct SchemaMigrator {
    let migrations: [EmbeddedMigration]

    static let ledgerSQL = """
        CREATE TABLE IF NOT EXISTS sluice_schema (
            number        INTEGER PRIMARY KEY NOT NULL,
            name          TEXT NOT NULL,
            sha256        TEXT NOT NULL,
            applied_at_ms INTEGER NOT NULL
        ) STRICT
        """

    struct Applied { let number: Int; let name: String; let sha256: String }

    /// The migrations still to apply, after checking the applied ones against this binary's.
    /// - Parameter path: named in messages.
    func pending(in db: Database, path: String) throws -> [EmbeddedMigration] {
        guard try db.tableExists("sluice_schema") else {
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            guard tables.isEmpty else {
                throw StoreError.incompatibleSchema(
                    "\(path) is not a Sluice database (it has tables \(tables.prefix(3).joined(separator: ", ")) but no sluice_schema); refusing to touch it"
                )
            }
            return migrations
        }
        let applied = try Row.fetchAll(db, sql: "SELECT number, name, sha256 FROM sluice_schema ORDER BY number").map {
            Applied(number: $0["number"], name: $0["name"], sha256: $0["sha256"])
        }
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.number, $0) })
        let newest = migrations.last?.identifier ?? "none"
        for row in applied {
            guard let mine = known[row.number] else {
                throw StoreError.incompatibleSchema(
                    "\(path) has schema migration \(String(format: "%04d", row.number))_\(row.name), newer than this binary knows (up to \(newest)); it was written by a newer Sluice. Refusing to open it; nothing was changed"
                )
            }
            guard mine.sha256 == row.sha256 else {
                throw StoreError.incompatibleSchema(
                    "\(path): applied migration \(mine.identifier) differs from the one in this binary; refusing to open it; nothing was changed"
                )
            }
        }
        let done = Set(applied.map(\.number))
        return migrations.filter { !done.contains($0.number) }
    }

    /// Applies `pending` in order, each with its ledger row in one transaction.
    func apply(_ pending: [EmbeddedMigration], to writer: any DatabaseWriter, nowMs: Int64) throws {
        for migration in pending {
            try writer.write { db in
                try db.execute(sql: Self.ledgerSQL)
                try db.execute(sql: migration.sql)
                try db.execute(
                    sql: "INSERT INTO sluice_schema (number, name, sha256, applied_at_ms) VALUES (?, ?, ?, ?)",
                    arguments: [migration.number, migration.name, migration.sha256, nowMs])
            }
        }
    }
}

extension EmbeddedMigration {
    var sha256: String { SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined() }
}
