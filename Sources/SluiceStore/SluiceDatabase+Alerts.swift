import Foundation
import GRDB
import SluiceCore

/// The alert outbox: alerts wait here, in order, until the webhook took them.
extension SluiceDatabase {
    /// An alert waiting for delivery, with its retry state.
    public struct PendingAlert: Sendable, Equatable {
        public var alert: Alert
        public var attempts: Int
        public var nextAttemptAtMs: Int64
    }

    func enqueueAlert(_ db: Database, _ alert: Alert) throws {
        try db.execute(
            sql: """
                INSERT INTO alert_outbox (kind, rollout_id, host_id, wave, message, at_ms, next_attempt_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [alert.kind, alert.rollout, alert.host, alert.wave, alert.message, alert.atMs, alert.atMs])
    }

    /// Raises `wave.waiting-approval` when the rollout's first wave not passed needs an
    /// operator and has none yet.
    func alertIfWaitingForApproval(_ db: Database, rollout: Int64, nowMs: Int64) throws {
        guard let policyJSON = try String.fetchOne(db, sql: "SELECT policy FROM rollouts WHERE id = ?", arguments: [rollout]),
            let wave = try Row.fetchOne(
                db, sql: "SELECT idx, name, approved_by FROM waves WHERE rollout_id = ? AND state = 'pending' ORDER BY idx LIMIT 1", arguments: [rollout]),
            (wave["approved_by"] as String?) == nil
        else { return }
        let policy = try JSONDecoder().decode(Policy.self, from: Data(policyJSON.utf8))
        let index: Int = wave["idx"]
        guard policy.waves.indices.contains(index), policy.waves[index].approval == .manual else { return }
        let name: String = wave["name"]
        try enqueueAlert(
            db,
            Alert(
                id: 0, kind: "wave.waiting-approval", rollout: rollout, wave: name, host: nil,
                message: "rollout \(rollout): wave \(name) waits for approval (sluicectl wave approve \(rollout) \(name))", atMs: nowMs))
    }

    /// The oldest alert not delivered yet: alerts go out in order, one at a time.
    public func nextPendingAlert() throws -> PendingAlert? {
        try writer.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM alert_outbox WHERE delivered_at_ms IS NULL AND dropped IS NULL ORDER BY id LIMIT 1")
            else { return nil }
            return PendingAlert(alert: Self.alert(row), attempts: row["attempts"], nextAttemptAtMs: row["next_attempt_at_ms"])
        }
    }

    public func alertDelivered(_ id: Int64, nowMs: Int64) throws {
        try writer.write { db in
            try db.execute(
                sql: "UPDATE alert_outbox SET delivered_at_ms = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?", arguments: [nowMs, id])
        }
    }

    public func alertFailed(_ id: Int64, error: String, retryAtMs: Int64) throws {
        try writer.write { db in
            try db.execute(
                sql: "UPDATE alert_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at_ms = ? WHERE id = ?",
                arguments: [String(error.prefix(500)), retryAtMs, id])
        }
    }

    /// With no webhook configured, alerts are recorded as never to be sent (the audit log has
    /// the events): a webhook configured later does not get a backlog of old ones.
    /// - Returns: how many were dropped.
    @discardableResult
    public func dropPendingAlerts(reason: String) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "UPDATE alert_outbox SET dropped = ? WHERE delivered_at_ms IS NULL AND dropped IS NULL", arguments: [reason])
            return db.changesCount
        }
    }

    /// Every alert in the outbox, oldest first (for tests and `sluiced` diagnostics).
    public func outboxAlerts() throws -> [(alert: Alert, attempts: Int, delivered: Bool)] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alert_outbox ORDER BY id").map { row in
                (Self.alert(row), row["attempts"], (row["delivered_at_ms"] as Int64?) != nil)
            }
        }
    }

    static func alert(_ row: Row) -> Alert {
        Alert(
            id: row["id"], kind: row["kind"], rollout: row["rollout_id"], wave: row["wave"], host: row["host_id"], message: row["message"],
            atMs: row["at_ms"])
    }
}
