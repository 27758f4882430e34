import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GRDB
import SluiceCore

/// The controller's store: the only code that opens the SQLite file.
///
/// Each public write method is one transaction that keeps the invariants and writes its
/// audit event in the same transaction. The interface speaks SluiceCore types only, so a
/// second backend can stand beside this one without touching the routes.
public struct SluiceDatabase: Sendable {
    let writer: any DatabaseWriter
    /// Where the file is, for messages; `:memory:` for an in-memory database.
    public let path: String
    /// Agents' heartbeats and reports, committed together (`commitHealth`, `commitReport`).
    let committer: GroupCommit
    /// Host credentials verified once (see `authenticate`); emptied by every revocation.
    let hostCredentials: HostCredentialCache

    init(writer: any DatabaseWriter, path: String) {
        self.writer = writer
        self.path = path
        self.committer = GroupCommit(writer: writer)
        self.hostCredentials = HostCredentialCache.shared(forPath: path)
    }

    /// Opens (creating if needed) the database file and brings its schema up to date.
    ///
    /// The schema is checked through a read-only connection first, so that a file written
    /// by a newer Sluice, or one that is not a Sluice database, is refused untouched.
    /// - Parameters:
    ///   - path: the SQLite file; its directory must exist.
    ///   - nowMs: recorded as the time migrations were applied.
    public static func open(path: String, nowMs: Int64) throws -> SluiceDatabase {
        let migrator = SchemaMigrator(migrations: EmbeddedMigration.shipped)
        if FileManager.default.fileExists(atPath: path) {
            var readOnly = Configuration()
            readOnly.readonly = true
            do {
                let probe = try DatabaseQueue(path: path, configuration: readOnly)
                _ = try probe.read { try migrator.pending(in: $0, path: path) }
                try probe.close()
            } catch let error as StoreError {
                throw error
            } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
                throw StoreError.incompatibleSchema("\(path) is not an SQLite database; refusing to touch it")
            } catch {
                throw StoreError.incompatibleSchema("cannot open \(path): \(describe(error))")
            }
        } else {
            try createPrivateDatabaseFile(path)
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration())
        } catch {
            throw StoreError.incompatibleSchema("cannot open \(path): \(describe(error))")
        }
        // GRDB sets the writer to synchronous=NORMAL when it turns WAL on, after the
        // configuration's own statements: every commit waits for the disk unless group commit
        // says otherwise for a batch (see `GroupCommit`).
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        let pending = try pool.read { try migrator.pending(in: $0, path: path) }
        try migrator.apply(pending, to: pool, nowMs: nowMs)
        return SluiceDatabase(writer: pool, path: path)
    }

    /// A private in-memory database with the full schema, for tests.
    public static func inMemory(nowMs: Int64 = 0) throws -> SluiceDatabase {
        let queue = try DatabaseQueue(configuration: configuration())
        let migrator = SchemaMigrator(migrations: EmbeddedMigration.shipped)
        let pending = try queue.read { try migrator.pending(in: $0, path: ":memory:") }
        try migrator.apply(pending, to: queue, nowMs: nowMs)
        return SluiceDatabase(writer: queue, path: ":memory:")
    }

    /// The identifiers (`NNNN_name`) of the migrations applied to this database, in order.
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT number, name FROM sluice_schema ORDER BY number").map {
                EmbeddedMigration(number: $0["number"], name: $0["name"], sql: "").identifier
            }
        }
    }

    static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.label = "sluice"
        // 16 MiB of page cache per connection instead of SQLite's 2 MiB: a fleet's hosts,
        // credentials and the package rows an inventory report compares stay in memory.
        // Every commit waits until the log is on disk, whatever SQLite was built with (and
        // `open` sets it again on a pool's writer); group commit alone lowers that for a
        // batch of heartbeats that change nothing but the time (see `GroupCommit`).
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -16384; PRAGMA synchronous = FULL") }
        return config
    }
}

/// Creates the empty database file with mode 0600 before SQLite opens it, whatever the umask:
/// SQLite gives its `-wal` and `-shm` files the mode of the database file, so none of the three
/// is readable by other users (token hashes, the fleet's inventory, policies with their
/// commands). A file that someone else creates meanwhile is left as it is.
func createPrivateDatabaseFile(_ path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
    if fd < 0 {
        if errno == EEXIST { return }
        throw StoreError.incompatibleSchema("cannot create \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    // The umask can only take bits away from 0600; set it exactly all the same.
    guard fchmod(fd, 0o600) == 0 else {
        throw StoreError.incompatibleSchema("cannot make \(path) mode 0600: \(String(cString: strerror(errno)))")
    }
}

/// SQLite's own message, without GRDB's decoration of the SQL and arguments.
func describe(_ error: any Error) -> String {
    if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
    return "\(error)"
}
