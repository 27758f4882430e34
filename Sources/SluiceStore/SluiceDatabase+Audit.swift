import Crypto
import Foundation
import GRDB
import SluiceCore

extension SluiceDatabase {
    /// Appends one event to the hash chain inside the caller's transaction, so the change
    /// it records and the record itself commit or roll back together.
    func appendAudit(_ db: Database, _ draft: AuditEvent) throws {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        var event = draft
        event.seq = (last?["seq"] as Int64? ?? 0) + 1
        let previous: Data = last?["hash"] ?? Data(count: 32)
        let hash = AuditChain.hash(previous: previous, event: event)
        try db.execute(
            sql: """
                INSERT INTO audit_events (seq, at_ms, actor, kind, rollout_id, wave, host_id, region, group_key, package, details, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                event.seq, event.atMs, event.actor, event.kind, event.rolloutID, event.wave, event.hostID, event.region,
                event.groupKey, event.package, event.details, previous, hash,
            ])
    }

    /// Audit events in sequence order, optionally only those about one host.
    public func auditEvents(hostID: HostID? = nil, limit: Int = 1000) throws -> [AuditEvent] {
        try writer.read { db in
            var sql = "SELECT * FROM audit_events"
            var arguments: StatementArguments = []
            if let hostID {
                sql += " WHERE host_id = ?"
                arguments += [hostID.rawValue]
            }
            sql += " ORDER BY seq LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(AuditEvent.init(row:))
        }
    }

    /// Walks the whole chain and returns the first row that does not follow from the one
    /// before it, or `nil` when the chain is intact.
    public func verifyAuditChain() throws -> AuditChain.Break? {
        try writer.read { db in
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit_events ORDER BY seq")
            var verifier = AuditChain.Verifier()
            while let row = try cursor.next() {
                if let broken = verifier.check(AuditEvent(row: row), prevHash: row["prev_hash"], hash: row["hash"]) {
                    return broken
                }
            }
            return nil
        }
    }
}

/// The audit log's hash chain.
public enum AuditChain {
    static func hash(previous: Data, event: AuditEvent) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: event.canonicalBytes)
        return Data(hasher.finalize())
    }

    /// Where and how the chain broke.
    public struct Break: Sendable, Equatable, CustomStringConvertible {
        public var seq: Int64
        public var reason: String
        public var description: String { "audit chain broken at seq \(seq): \(reason)" }
    }

    struct Verifier {
        var previousSeq: Int64 = 0
        var previousHash = Data(count: 32)

        mutating func check(_ event: AuditEvent, prevHash: Data, hash: Data) -> Break? {
            defer {
                previousSeq = event.seq
                previousHash = hash
            }
            if event.seq != previousSeq + 1 {
                return Break(
                    seq: event.seq,
                    reason: event.seq > previousSeq + 1
                        ? "rows \(previousSeq + 1)...\(event.seq - 1) are missing (deleted)" : "out of order after seq \(previousSeq)")
            }
            if prevHash != previousHash {
                return Break(seq: event.seq, reason: "does not link to the row before it (a row was removed, inserted or replaced)")
            }
            if AuditChain.hash(previous: prevHash, event: event) != hash {
                return Break(seq: event.seq, reason: "its content does not match its hash (the row was edited)")
            }
            return nil
        }
    }
}

extension AuditEvent {
    init(row: Row) {
        self.init(
            seq: row["seq"], atMs: row["at_ms"], actor: row["actor"], kind: row["kind"], rolloutID: row["rollout_id"],
            wave: row["wave"], hostID: row["host_id"], region: row["region"], groupKey: row["group_key"],
            package: row["package"], details: row["details"])
    }
}
