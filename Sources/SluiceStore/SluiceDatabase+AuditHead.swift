import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GRDB
import SluiceCore

/// The audit chain's head, and the newest one `sluiced` witnessed, kept beside the database
/// file so that `audit verify` notices rows deleted from the end of the chain.
extension SluiceDatabase {
    /// An in-memory database has no file beside which to witness anything.
    public var isInMemory: Bool { path == ":memory:" }

    /// `<database>.audit-head`.
    public static func witnessedHeadPath(for databasePath: String) -> String { databasePath + ".audit-head" }

    /// The chain's last row as a head, or nil for an empty log.
    public func auditHead() throws -> AuditHead? {
        try writer.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1") else { return nil }
            return AuditHead(seq: row["seq"], hash: LowercaseHex.encode(Array(row["hash"] as Data)))
        }
    }

    /// The head witnessed for the database at `databasePath`, or nil when none was.
    /// - Throws: `InvalidInput` when the file exists but is not a head.
    public static func witnessedHead(databasePath: String) throws(InvalidInput) -> AuditHead? {
        let path = witnessedHeadPath(for: databasePath)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do { return try JSONDecoder().decode(AuditHead.self, from: data) } catch {
            throw InvalidInput("\(path): not an audit head (\(error.localizedDescription)); it should hold {\"seq\":N,\"hash\":\"...\",\"atMs\":T}")
        }
    }

    /// Replaces the witnessed head, atomically, readable by the owner only.
    public static func witness(_ head: AuditHead, databasePath: String) throws {
        let path = witnessedHeadPath(for: databasePath)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let temporary = path + ".new"
        guard FileManager.default.createFile(atPath: temporary, contents: try encoder.encode(head) + Data("\n".utf8), attributes: [.posixPermissions: 0o600])
        else { throw InvalidInput("cannot write \(temporary)") }
        guard rename(temporary, path) == 0 else { throw InvalidInput("cannot replace \(path): \(String(cString: strerror(errno)))") }
    }
}
