import Foundation
import GRDB
import SluiceCore

/// What revoking a host did.
public struct HostRevocation: Sendable, Equatable {
    public var revokedAtMs: Int64
    /// Pending or started assignments that will now never run.
    public var cancelledAssignments: Int
    /// Assignments the host was applying: their outcome is unknown, so they count as failed
    /// and hold their group's capacity until an operator resolves them.
    public var failedAssignments: Int
}

extension SluiceDatabase {
    /// Revokes a host, in one transaction: its secret stops working at once, its assignments
    /// that have not begun are cancelled, one it was applying is marked failed (nobody will
    /// report how it ended), and each of these is audited with the actor and the reason.
    ///
    /// A revoked host id never enrolls again (see `enroll`), and the host drops out of the
    /// fleet's lists and of planning.
    /// - Throws: `StoreError.notFound` for an unknown host, `.conflict` for one already revoked.
    @discardableResult
    public func revokeHost(_ host: HostID, reason: String, actor: Actor, nowMs: Int64) throws -> HostRevocation {
        try checkReason(reason)
        // After the commit: no credential verified from the snapshot before it stays cached.
        defer { hostCredentials.invalidate() }
        return try writer.write { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT revoked_at_ms FROM hosts WHERE id = ?"), arguments: [host.rawValue]) else {
                throw StoreError.notFound("host \(host) is not enrolled")
            }
            if let at: Int64 = row["revoked_at_ms"] {
                throw StoreError.conflict("host \(host) was already revoked at \(AuditTime.rfc3339(at))")
            }
            try db.execute(
                sql: "UPDATE hosts SET revoked_at_ms = ?, revoked_by = ?, revoke_reason = ? WHERE id = ? AND revoked_at_ms IS NULL",
                arguments: [nowMs, actor.description, reason, host.rawValue])
            guard db.changesCount == 1 else { throw StoreError.conflict("host \(host) was already revoked") }
            try db.execute(
                sql: """
                    UPDATE credentials SET revoked_at_ms = ?, revoked_by = ?, revoke_reason = ?
                    WHERE host_id = ? AND kind = 'host' AND revoked_at_ms IS NULL
                    """,
                arguments: [nowMs, actor.description, reason, host.rawValue])
            let region = try label(db, host, "region")
            let open = try Row.fetchAll(
                db,
                sql: "SELECT id, rollout_id, state, capacity_key FROM assignments WHERE host_id = ? AND state IN ('pending', 'started', 'applying', 'verifying') ORDER BY id",
                arguments: [host.rawValue])
            // The cause first, then its effects, in the chain's order.
            let applying = open.filter { ["applying", "verifying"].contains($0["state"] as String) }.count
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: actor.description, kind: "host.revoked", hostID: host.rawValue, region: region,
                    details: json(["reason": reason, "cancelled": String(open.count - applying), "failed": String(applying)])))
            var cancelled = 0, failed = 0
            for assignment in open {
                let id: Int64 = assignment["id"]
                let from: String = assignment["state"]
                let beganApplying = from == "applying" || from == "verifying"
                let to = beganApplying ? "failed" : "cancelled"
                let detail = beganApplying ? "host revoked while applying: outcome unknown" : "host revoked"
                try db.execute(
                    sql: "UPDATE assignments SET state = ?, detail = ?, updated_at_ms = ? WHERE id = ? AND state = ?",
                    arguments: [to, detail, nowMs, id, from])
                guard db.changesCount == 1 else { continue }
                if beganApplying { failed += 1 } else { cancelled += 1 }
                try appendAudit(
                    db,
                    AuditEvent(
                        atMs: nowMs, actor: actor.description, kind: "assignment.\(to)", rolloutID: assignment["rollout_id"],
                        wave: try assignmentWave(db, id), hostID: host.rawValue, region: region, groupKey: assignment["capacity_key"],
                        details: json(["assignment": String(id), "from": from, "to": to, "detail": detail, "reason": reason])))
            }
            return HostRevocation(revokedAtMs: nowMs, cancelledAssignments: cancelled, failedAssignments: failed)
        }
    }

    /// Whether `host` has been revoked (an unknown host counts as revoked: it may do nothing).
    public func isRevoked(_ host: HostID) throws -> Bool {
        try writer.read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT revoked_at_ms FROM hosts WHERE id = ?"), arguments: [host.rawValue]) else { return true }
            return (row["revoked_at_ms"] as Int64?) != nil
        }
    }
}
