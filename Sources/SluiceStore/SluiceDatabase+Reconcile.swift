import Foundation
import GRDB
import SluiceCore

extension SluiceDatabase {
    /// The reconciler's view: open rollouts, their assignments plus every assignment that
    /// holds group capacity anywhere, and every host's health and labels. One read transaction.
    public func reconcileSnapshot(staleAfterMs: Int64) throws -> ReconcileSnapshot {
        try writer.read { db in
            let rollouts = try Row.fetchAll(db, sql: "SELECT * FROM rollouts WHERE state IN ('running', 'paused') ORDER BY id").map {
                try rolloutStatus(db, row: $0)
            }
            let assignments = try assignmentStatuses(
                db,
                sql: """
                    SELECT a.* FROM assignments a JOIN rollouts r ON r.id = a.rollout_id
                    WHERE r.state IN ('running', 'paused') OR a.state IN ('started', 'applying', 'verifying')
                       OR (a.state = 'failed' AND a.resolved_at_ms IS NULL)
                    """)
            return ReconcileSnapshot(
                rollouts: rollouts, assignments: assignments, hosts: try hostHealth(db), labels: try hostLabels(db), staleAfterMs: staleAfterMs)
        }
    }

    /// Applies one reconciler action as one transaction with its audit event, only if the
    /// state it was decided from still holds.
    /// - Returns: whether anything changed.
    @discardableResult
    public func apply(_ action: ReconcileAction, nowMs: Int64) throws -> Bool {
        try writer.write { db in try apply(db, action, nowMs: nowMs) }
    }

    private func apply(_ db: Database, _ action: ReconcileAction, nowMs: Int64) throws -> Bool {
        let actor = Actor.controller.description
        switch action {
        case .startWave(let rollout, let wave):
            guard try isRunning(db, rollout) else { return false }
            try db.execute(
                sql: "UPDATE waves SET state = 'running', started_at_ms = ? WHERE rollout_id = ? AND idx = ? AND state = 'pending'",
                arguments: [nowMs, rollout, wave])
            guard db.changesCount == 1 else { return false }
            try appendAudit(db, AuditEvent(atMs: nowMs, actor: actor, kind: "wave.started", rolloutID: rollout, wave: try waveName(db, rollout, wave)))
        case .startAssignment(let rollout, let assignment, let host):
            guard try isRunning(db, rollout) else { return false }
            try db.execute(
                sql: "UPDATE assignments SET state = 'started', started_at_ms = ?, updated_at_ms = ? WHERE id = ? AND state = 'pending'",
                arguments: [nowMs, nowMs, assignment])
            guard db.changesCount == 1 else { return false }
            try appendAssignmentAudit(
                db, kind: "assignment.started", rollout: rollout, assignment: assignment, host: host, nowMs: nowMs,
                details: ["from": "pending", "to": "started"])
        case .beginSoak(let rollout, let wave):
            guard try isRunning(db, rollout) else { return false }
            try db.execute(
                sql: "UPDATE waves SET state = 'soaking', soak_started_at_ms = ? WHERE rollout_id = ? AND idx = ? AND state = 'running'",
                arguments: [nowMs, rollout, wave])
            guard db.changesCount == 1 else { return false }
            try appendAudit(db, AuditEvent(atMs: nowMs, actor: actor, kind: "wave.soaking", rolloutID: rollout, wave: try waveName(db, rollout, wave)))
        case .passWave(let rollout, let wave):
            guard try isRunning(db, rollout) else { return false }
            try db.execute(
                sql: "UPDATE waves SET state = 'passed', finished_at_ms = ? WHERE rollout_id = ? AND idx = ? AND state IN ('pending', 'soaking')",
                arguments: [nowMs, rollout, wave])
            guard db.changesCount == 1 else { return false }
            try appendAudit(db, AuditEvent(atMs: nowMs, actor: actor, kind: "wave.passed", rolloutID: rollout, wave: try waveName(db, rollout, wave)))
            try alertIfWaitingForApproval(db, rollout: rollout, nowMs: nowMs)
        case .haltAndRevert(let rollout, let wave, let reason, let hosts):
            guard try apply(db, .halt(rollout: rollout, wave: wave, reason: reason), nowMs: nowMs) else { return false }
            // The halt stands whatever happens to the revert; a revert that cannot be created
            // (another rollout of the policy opened meanwhile) is audited, and alerted, instead.
            do {
                try db.inSavepoint {
                    _ = try createRevert(db, of: rollout, hosts: hosts, reason: "on_failure: revert (\(reason))", actor: .controller, nowMs: nowMs)
                    return .commit
                }
            } catch let refusal as StoreError {
                try appendAudit(
                    db,
                    AuditEvent(
                        atMs: nowMs, actor: actor, kind: "rollout.revert-refused", rolloutID: rollout,
                        details: json(["hosts": hosts.map(\.rawValue).joined(separator: " "), "reason": refusal.description])))
            }
        case .halt(let rollout, let wave, let reason):
            try db.execute(
                sql: "UPDATE rollouts SET state = 'halted', reason = ?, updated_at_ms = ? WHERE id = ? AND state IN ('running', 'paused')",
                arguments: [reason, nowMs, rollout])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: "UPDATE waves SET state = 'failed', finished_at_ms = ? WHERE rollout_id = ? AND idx = ?", arguments: [nowMs, rollout, wave])
            try cancelUnstarted(db, rollout: rollout, nowMs: nowMs)
            try appendAudit(
                db,
                AuditEvent(atMs: nowMs, actor: actor, kind: "rollout.halted", rolloutID: rollout, wave: try waveName(db, rollout, wave), details: json(["reason": reason])))
        case .complete(let rollout):
            try db.execute(
                sql: "UPDATE rollouts SET state = 'completed', updated_at_ms = ? WHERE id = ? AND state = 'running'", arguments: [nowMs, rollout])
            guard db.changesCount == 1 else { return false }
            try appendAudit(db, AuditEvent(atMs: nowMs, actor: actor, kind: "rollout.completed", rolloutID: rollout))
        case .reportSilent(let rollout, let host, let silentFor):
            // Reported once per silence: only when the last audit event about it is not already this.
            let last = try String.fetchOne(
                db, sql: "SELECT kind FROM audit_events WHERE host_id = ? AND rollout_id = ? ORDER BY seq DESC LIMIT 1",
                arguments: [host.rawValue, rollout])
            guard last != "host.silent" else { return false }
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: actor, kind: "host.silent", rolloutID: rollout, hostID: host.rawValue, region: try label(db, host, "region"),
                    details: json(["silentForMs": String(silentFor), "effect": "promotion blocked"])))
        case .expireAssignment(let rollout, let assignment, let host, let deadline):
            guard let from = try String.fetchOne(db, sql: "SELECT state FROM assignments WHERE id = ?", arguments: [assignment]),
                AssignmentState(rawValue: from)?.isInFlight == true
            else { return false }
            let detail = "no result within the wave's apply deadline (\(formatDuration(ms: deadline * 1000))): the host went silent or its apply hung"
            try db.execute(
                sql: "UPDATE assignments SET state = ?, outcome = 'timed-out', detail = ?, updated_at_ms = ? WHERE id = ? AND state = ?",
                arguments: [AssignmentState.failed.rawValue, detail, nowMs, assignment, from])
            guard db.changesCount == 1 else { return false }
            try appendAssignmentAudit(
                db, kind: "assignment.timed-out", rollout: rollout, assignment: assignment, host: host, nowMs: nowMs,
                details: ["from": from, "to": AssignmentState.failed.rawValue, "reason": detail])
        }
        return true
    }

    /// The controller's audit event for a change of one assignment, with its wave, host,
    /// region and group.
    private func appendAssignmentAudit(
        _ db: Database, kind: String, rollout: Int64, assignment: Int64, host: HostID, nowMs: Int64, details: [String: String?]
    ) throws {
        try appendAudit(
            db,
            AuditEvent(
                atMs: nowMs, actor: Actor.controller.description, kind: kind, rolloutID: rollout, wave: try assignmentWave(db, assignment),
                hostID: host.rawValue, region: try label(db, host, "region"), groupKey: try capacityKey(db, assignment),
                details: json(details.merging(["assignment": String(assignment)]) { $1 })))
    }

    /// An operator's decision on a rollout. Each is a guarded transition: of two operators
    /// acting at once, exactly one changes the state and the other gets a conflict.
    public enum Decision: Sendable, Equatable {
        case approve(wave: String?)
        case pause, resume, abort
    }

    public func decide(_ decision: Decision, rollout: Int64, reason: String?, actor: Actor, nowMs: Int64) throws {
        try writer.write { db in
            guard let state = try String.fetchOne(db, sql: "SELECT state FROM rollouts WHERE id = ?", arguments: [rollout]) else {
                throw StoreError.notFound("rollout \(rollout) does not exist")
            }
            let details = json(["reason": reason, "from": state])
            switch decision {
            case .approve(let name):
                guard state == "running" || state == "paused" else { throw StoreError.conflict("rollout \(rollout) is \(state); nothing to approve") }
                let policyJSON = try String.fetchOne(db, sql: "SELECT policy FROM rollouts WHERE id = ?", arguments: [rollout]) ?? "{}"
                let policy = try JSONDecoder().decode(Policy.self, from: Data(policyJSON.utf8))
                let waves = try Row.fetchAll(db, sql: "SELECT idx, name, state, approved_by FROM waves WHERE rollout_id = ? ORDER BY idx", arguments: [rollout])
                let wave: Row?
                if let name {
                    wave = waves.first { ($0["name"] as String) == name }
                    guard let wave else { throw StoreError.notFound("rollout \(rollout) has no wave \(quoted(name))") }
                    guard policy.waves[wave["idx"] as Int].approval == .manual else {
                        throw StoreError.conflict("wave \(name) of rollout \(rollout) needs no approval (approval: auto)")
                    }
                } else {
                    // The first pending wave that waits for an operator.
                    wave = waves.first { ($0["state"] as String) == "pending" && policy.waves[$0["idx"] as Int].approval == .manual && ($0["approved_by"] as String?) == nil }
                    guard wave != nil else { throw StoreError.conflict("rollout \(rollout) has no wave waiting for approval") }
                }
                let waveName: String = wave!["name"]
                try db.execute(
                    sql: "UPDATE waves SET approved_by = ?, approved_at_ms = ? WHERE rollout_id = ? AND name = ? AND approved_by IS NULL AND state = 'pending'",
                    arguments: [actor.description, nowMs, rollout, waveName])
                guard db.changesCount == 1 else {
                    let by: String? = wave!["approved_by"]
                    throw StoreError.conflict("wave \(waveName) of rollout \(rollout) is \(by.map { "already approved by \($0)" } ?? "not pending")")
                }
                try appendAudit(db, AuditEvent(atMs: nowMs, actor: actor.description, kind: "wave.approved", rolloutID: rollout, wave: waveName, details: details))
            case .pause:
                try transition(db, rollout, from: "running", to: "paused", reason: reason, nowMs: nowMs, state: state)
                // Hosts told to go that have not begun are called back; one mid-apply finishes or rolls back.
                try db.execute(
                    sql: "UPDATE assignments SET state = 'pending', started_at_ms = NULL, updated_at_ms = ? WHERE rollout_id = ? AND state = 'started'",
                    arguments: [nowMs, rollout])
                try appendAudit(db, AuditEvent(atMs: nowMs, actor: actor.description, kind: "rollout.paused", rolloutID: rollout, details: details))
            case .resume:
                try transition(db, rollout, from: "paused", to: "running", reason: reason, nowMs: nowMs, state: state)
                try appendAudit(db, AuditEvent(atMs: nowMs, actor: actor.description, kind: "rollout.resumed", rolloutID: rollout, details: details))
            case .abort:
                guard state == "running" || state == "paused" else { throw StoreError.conflict("rollout \(rollout) is already \(state)") }
                try db.execute(sql: "UPDATE rollouts SET state = 'aborted', reason = ?, updated_at_ms = ? WHERE id = ?", arguments: [reason, nowMs, rollout])
                try cancelUnstarted(db, rollout: rollout, nowMs: nowMs)
                try appendAudit(db, AuditEvent(atMs: nowMs, actor: actor.description, kind: "rollout.aborted", rolloutID: rollout, details: details))
            }
        }
    }

    private func transition(_ db: Database, _ rollout: Int64, from: String, to: String, reason: String?, nowMs: Int64, state: String) throws {
        try db.execute(
            sql: "UPDATE rollouts SET state = ?, reason = coalesce(?, reason), updated_at_ms = ? WHERE id = ? AND state = ?",
            arguments: [to, reason, nowMs, rollout, from])
        guard db.changesCount == 1 else { throw StoreError.conflict("rollout \(rollout) is \(state), not \(from)") }
    }

    private func cancelUnstarted(_ db: Database, rollout: Int64, nowMs: Int64) throws {
        try db.execute(
            sql: "UPDATE assignments SET state = 'cancelled', updated_at_ms = ? WHERE rollout_id = ? AND state IN ('pending', 'started')",
            arguments: [nowMs, rollout])
    }

    private func isRunning(_ db: Database, _ rollout: Int64) throws -> Bool {
        try String.fetchOne(db, sql: "SELECT state FROM rollouts WHERE id = ?", arguments: [rollout]) == "running"
    }

    func waveName(_ db: Database, _ rollout: Int64, _ wave: Int) throws -> String? {
        try String.fetchOne(db, sql: "SELECT name FROM waves WHERE rollout_id = ? AND idx = ?", arguments: [rollout, wave])
    }

    func assignmentWave(_ db: Database, _ assignment: Int64) throws -> String? {
        try String.fetchOne(
            db, sql: "SELECT w.name FROM assignments a JOIN waves w ON w.rollout_id = a.rollout_id AND w.idx = a.wave_idx WHERE a.id = ?",
            arguments: [assignment])
    }

    func capacityKey(_ db: Database, _ assignment: Int64) throws -> String? {
        try String.fetchOne(db, sql: "SELECT capacity_key FROM assignments WHERE id = ?", arguments: [assignment])
    }

    func label(_ db: Database, _ host: HostID, _ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM host_labels WHERE host_id = ? AND key = ?", arguments: [host.rawValue, key])
    }
}
