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
        let previous: Data
        if let last {
            event.seq = last["seq"] as Int64 + 1
            previous = last["hash"]
        } else {
            // An empty log, or every row archived: the chain goes on from the anchor.
            let base = Self.chainBase(try Self.auditAnchor(db))
            event.seq = base.seq
            previous = Data(base.prev)
        }
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
        // The alert an event raises is written with it: both or neither.
        if let alert = Alert.raised(by: event) { try enqueueAlert(db, alert) }
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
    /// before it, or `nil` when the chain is intact. `verifyAudit()` says more.
    public func verifyAuditChain() throws -> AuditChain.Break? {
        try verifyAudit().problem.map { AuditChain.Break(seq: $0.seq, reason: $0.message) }
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
}

extension AuditEvent {
    init(row: Row) {
        self.init(
            seq: row["seq"], atMs: row["at_ms"], actor: row["actor"], kind: row["kind"], rolloutID: row["rollout_id"],
            wave: row["wave"], hostID: row["host_id"], region: row["region"], groupKey: row["group_key"],
            package: row["package"], details: row["details"])
    }
}
