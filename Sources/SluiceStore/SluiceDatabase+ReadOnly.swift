import Foundation
import GRDB
import SluiceCore

extension SluiceDatabase {
    /// Opens a copy or backup of a Sluice database for reading only, as `sluicectl --db`
    /// does for postmortems: the file is never written, not even to migrate it.
    ///
    /// A file written by a newer Sluice (a migration this binary does not know), or one
    /// that is not a Sluice database, is refused. An older one is read as it is;
    /// `olderSchemaNote()` says what it lacks.
    /// - Parameter path: the SQLite file; it must exist.
    public static func openReadOnly(path: String) throws -> SluiceDatabase {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.notFound("\(path) does not exist")
        }
        var config = configuration()
        config.readonly = true
        config.label = "sluice-readonly"
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA query_only = 1") }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw StoreError.incompatibleSchema("cannot open \(path) read-only: \(describe(error))")
        }
        let migrator = SchemaMigrator(migrations: EmbeddedMigration.shipped)
        let pending: [EmbeddedMigration]
        do {
            pending = try pool.read { try migrator.pending(in: $0, path: path) }
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw StoreError.incompatibleSchema("\(path) is not an SQLite database")
        } catch {
            throw StoreError.incompatibleSchema("cannot read \(path): \(describe(error))")
        }
        guard pending.count < EmbeddedMigration.shipped.count else {
            throw StoreError.incompatibleSchema("\(path) holds no Sluice schema: it is empty or not a Sluice database")
        }
        return SluiceDatabase(writer: pool, path: path)
    }

    /// When the file was written by an older Sluice: one line saying which migrations it
    /// lacks and that it is read as it is; `nil` when its schema is this binary's.
    public func olderSchemaNote() throws -> String? {
        let applied = Set(try appliedMigrations())
        let missing = EmbeddedMigration.shipped.map(\.identifier).filter { !applied.contains($0) }
        guard let newest = applied.max(), !missing.isEmpty else { return nil }
        return "note: \(path) was written by an older Sluice (schema up to \(newest); this binary knows up to "
            + "\(EmbeddedMigration.shipped.last?.identifier ?? "?")). Reading it as it is, without \(missing.joined(separator: ", ")): "
            + "queries may be slower. Nothing was changed."
    }

    /// Appends events straight to the chain, `batch` per transaction, through the same code
    /// as every write: for the benchmark and tests that need a large log fast. Never used by
    /// the controller, which records each event with the change it describes.
    package func appendAuditEvents(_ events: [AuditEvent], batch: Int = 10_000) throws {
        var index = 0
        while index < events.count {
            let slice = events[index..<min(events.count, index + batch)]
            try writer.write { db in for event in slice { try appendAudit(db, event) } }
            index += batch
        }
    }
}
