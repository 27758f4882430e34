import GRDB
import SluiceCore

extension SluiceDatabase {
    public func scheduleState(policy: String) throws -> ScheduleState {
        try writer.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM policy_schedules WHERE policy_name = ?", arguments: [policy]) else {
                return ScheduleState()
            }
            return ScheduleState(
                lastRunAtMs: row["last_run_at_ms"], seenDigest: row["seen_digest"], seenSinceMs: row["seen_since_ms"],
                lastCreatedDigest: row["last_created_digest"])
        }
    }

    public func saveScheduleState(policy: String, _ state: ScheduleState) throws {
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO policy_schedules (policy_name, last_run_at_ms, seen_digest, seen_since_ms, last_created_digest)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(policy_name) DO UPDATE SET last_run_at_ms = excluded.last_run_at_ms, seen_digest = excluded.seen_digest,
                        seen_since_ms = excluded.seen_since_ms, last_created_digest = excluded.last_created_digest
                    """,
                arguments: [policy, state.lastRunAtMs, state.seenDigest, state.seenSinceMs, state.lastCreatedDigest])
        }
    }

    public func hasOpenRollout(policy: String) throws -> Bool {
        try writer.read {
            try Bool.fetchOne($0, sql: "SELECT 1 FROM rollouts WHERE policy_name = ? AND state IN ('running', 'paused')", arguments: [policy]) ?? false
        }
    }
}
