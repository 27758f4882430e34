import Foundation
import GRDB
import SluiceCore

extension SluiceDatabase {
    /// What the host must do now: an assignment the controller started (or one the agent
    /// is still applying, after a restart), with the instructions from the frozen policy.
    /// - Parameter keepSaved: when given, the instructions list the assignments whose saved
    ///   packages the host keeps (`savedPackagesToKeep`) at this instant and retention.
    public func currentAssignment(for host: HostID, keepSaved: (nowMs: Int64, retentionMs: Int64)? = nil) throws -> HostAssignment? {
        try writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT a.id, a.rollout_id, a.state, a.packages, a.reverts_assignment, r.policy FROM assignments a JOIN rollouts r ON r.id = a.rollout_id
                            WHERE a.host_id = ? AND a.state IN ('started', 'applying', 'verifying') ORDER BY a.id LIMIT 1
                            """), arguments: [host.rawValue])
            else { return nil }
            let policy = try JSONDecoder().decode(Policy.self, from: Data((row["policy"] as String).utf8))
            let packages = try JSONDecoder().decode([PackagePin].self, from: Data((row["packages"] as String).utf8))
            var labels: [String: String] = [:]
            for l in try Row.fetchAll(db.cachedStatement(sql: "SELECT key, value FROM host_labels WHERE host_id = ?"), arguments: [host.rawValue]) {
                labels[l["key"]] = l["value"]
            }
            let checks = policy.checks(for: try Labels(validating: labels))
            return HostAssignment(
                id: row["id"], rolloutID: row["rollout_id"], state: AssignmentState(rawValue: row["state"]) ?? .failed,
                instructions: ApplyInstructions(
                    packages: packages, validations: checks.validations, healthChecks: checks.healthChecks, preHooks: checks.preHooks,
                    postHooks: checks.postHooks, healthDeadlineSeconds: checks.healthDeadlineSeconds, revertsAssignment: row["reverts_assignment"],
                    keepSavedFrom: try keepSaved.map { try savedPackagesToKeep(db, host: host, nowMs: $0.nowMs, retentionMs: $0.retentionMs) }))
        }
    }

    /// The id and state of what `currentAssignment(for:)` would return, without reading its
    /// instructions: one indexed row, for long-polls that look again on every change.
    public func currentAssignmentState(for host: HostID) throws -> (id: Int64, state: AssignmentState)? {
        try writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT id, state FROM assignments WHERE host_id = ? AND state IN ('started', 'applying', 'verifying') ORDER BY id LIMIT 1"),
                    arguments: [host.rawValue])
            else { return nil }
            return (row["id"], AssignmentState(rawValue: row["state"]) ?? .failed)
        }
    }

    /// Records one step an agent reports and moves its assignment:
    /// `started` (started -> applying), `restarted` (-> verifying), `finished` (-> the outcome).
    /// - Throws: `StoreError.conflict` when the assignment is not in a state that step
    ///   follows from: for `started`, the agent must then not apply (it was paused or cancelled).
    /// - Returns: the assignment's state after the step.
    @discardableResult
    public func recordStep(host: HostID, assignment: Int64, report: ApplyStepReport, nowMs: Int64) throws -> AssignmentState {
        try writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT rollout_id, state, outcome, capacity_key FROM assignments WHERE id = ? AND host_id = ?",
                    arguments: [assignment, host.rawValue])
            else { throw StoreError.notFound("host \(host) has no assignment \(assignment)") }
            let from = AssignmentState(rawValue: row["state"]) ?? .failed
            let to: AssignmentState
            switch report.step {
            case .started:
                guard from == .started else { throw StoreError.conflict("assignment \(assignment) is \(from.rawValue), not started: do not apply") }
                to = .applying
            case .restarted:
                guard from == .applying || from == .verifying else { throw StoreError.conflict("assignment \(assignment) is \(from.rawValue)") }
                to = .verifying
            case .finished where from == .failed && (row["outcome"] as String?) == "timed-out":
                // The result of an apply the controller gave up on at its deadline: kept in the
                // audit log as the host's word, while the assignment stays failed until an
                // operator resolves it (the rollout already counted the failure).
                to = .failed
            case .finished:
                guard from == .applying || from == .verifying, let outcome = report.outcome else {
                    throw StoreError.conflict("assignment \(assignment) is \(from.rawValue); a finished step needs an outcome and an apply in progress")
                }
                to =
                    switch outcome {
                    case .succeeded: .succeeded
                    case .failed: .failed
                    case .preflightFailed, .unhealthyBeforeApply: .refused
                    case .rolledBackBeforeRestart, .rolledBackAfterRestart: .rolledBack
                    }
            default:
                guard from == .applying || from == .verifying else { throw StoreError.conflict("assignment \(assignment) is \(from.rawValue)") }
                to = from
            }
            let late = from == .failed
            if !late {
                try db.execute(
                    sql: "UPDATE assignments SET state = ?, outcome = coalesce(?, outcome), detail = ?, updated_at_ms = ? WHERE id = ?",
                    arguments: [to.rawValue, report.outcome?.rawValue, report.detail, nowMs, assignment])
            }
            if report.step == .finished && to == .succeeded && !late {
                // What a revert would reinstall: the versions the apply replaced.
                let before = String(decoding: try JSONEncoder.sorted.encode(report.versionsBefore), as: UTF8.self)
                try db.execute(sql: "UPDATE assignments SET versions_before = ? WHERE id = ?", arguments: [before, assignment])
            }
            try db.execute(sql: "UPDATE hosts SET last_seen_at_ms = ? WHERE id = ?", arguments: [nowMs, host.rawValue])
            if to == .failed && !late { try setHealth(db, host: host, healthy: false, detail: report.detail, nowMs: nowMs) }
            let rollout: Int64 = row["rollout_id"]
            var details: [String: String?] = [
                "assignment": String(assignment), "step": report.step.rawValue, "detail": report.detail, "from": from.rawValue, "to": to.rawValue,
                "outcome": report.outcome?.rawValue, "output": report.output.map { String($0.prefix(4000)) },
            ]
            if late { details["late"] = "after the apply deadline; the assignment stays failed" }
            if !report.versionsBefore.isEmpty { details["versionsBefore"] = report.versionsBefore.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
            if !report.versionsAfter.isEmpty { details["versionsAfter"] = report.versionsAfter.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: Actor.agent(host).description, kind: "agent.\(report.step.rawValue)", rolloutID: rollout,
                    wave: try assignmentWave(db, assignment), hostID: host.rawValue, region: try label(db, host, "region"),
                    groupKey: row["capacity_key"], details: json(details)))
            if report.step == .finished && !late { try recordRevertOutcome(db, assignment: assignment, host: host, report: report, state: to, nowMs: nowMs) }
            return to
        }
    }

    /// A heartbeat with the host's health: it was seen now; a change of health is audited
    /// (coalesced, see `HealthBeat.auditIntervalMs`).
    /// - Returns: whether the host's health changed.
    @discardableResult
    public func recordHealth(host: HostID, healthy: Bool, detail: String, nowMs: Int64) throws -> Bool {
        try writer.write { db in try recordHealth(db, HealthBeat(host: host, healthy: healthy, detail: detail, nowMs: nowMs)) }
    }

    /// `recordHealth(host:healthy:detail:nowMs:)` in a transaction shared with the other
    /// agents' writes that arrive meanwhile (see `GroupCommit`): what the heartbeat route calls.
    /// A healthy heartbeat from a host known to be healthy (nearly all of them) changes only
    /// its last-seen time and detail, which its next heartbeat brings back: that commit does
    /// not wait for the disk (`GroupCommit`'s `synced`). Anything else, a change of health
    /// (audited, and a failure can halt a rollout) or a failing host, is written again in a
    /// batch that waits, as every other write does.
    public func commitHealth(_ beat: HealthBeat) async throws -> Bool {
        if beat.healthy, try await committer.perform(synced: false, { db in try recordUnchangedHealth(db, beat) }) { return false }
        return try await committer.perform { db in try recordHealth(db, beat) }
    }

    /// One heartbeat inside a transaction; when it throws it has written nothing, so a batch
    /// of them goes on without it.
    private func recordHealth(_ db: Database, _ beat: HealthBeat) throws -> Bool {
        // Nearly every heartbeat changes nothing but the time: one statement, atomic by itself.
        if try recordUnchangedHealth(db, beat) { return false }
        // A change writes several rows and an audit event: in a savepoint.
        var changed = false
        try db.inSavepoint {
            changed = try recordChangedHealth(db, beat)
            return .commit
        }
        return changed
    }

    /// Records a heartbeat whose health is what the host already had, with no change of
    /// health waiting to be audited; false if not (or the host is unknown), having written nothing.
    private func recordUnchangedHealth(_ db: Database, _ beat: HealthBeat) throws -> Bool {
        try db.cachedStatement(
            sql: "UPDATE hosts SET last_seen_at_ms = ?, health_detail = ? WHERE id = ? AND healthy IS ? AND health_changes_unaudited = 0"
        ).execute(arguments: [beat.nowMs, beat.detail, beat.host.rawValue, beat.healthy])
        return db.changesCount == 1
    }

    private func recordChangedHealth(_ db: Database, _ beat: HealthBeat) throws -> Bool {
        try db.cachedStatement(sql: "UPDATE hosts SET last_seen_at_ms = ? WHERE id = ?").execute(arguments: [beat.nowMs, beat.host.rawValue])
        guard db.changesCount == 1 else { throw StoreError.notFound("host \(beat.host) is not enrolled") }
        return try setHealth(
            db, host: beat.host, healthy: beat.healthy, detail: beat.detail, nowMs: beat.nowMs, coalescingWithinMs: beat.auditIntervalMs)
    }

    /// Sets the host's health; a change is audited as `host.healthy` or `host.unhealthy`.
    ///
    /// With `coalescingWithinMs` (a host's own heartbeats), the changes a host has audited
    /// come from an allowance of `HealthBeat.auditBurst` changes, refilled by one every
    /// interval: a real host's changes (down, then up again after a rollback) are all
    /// audited at once, while a host that keeps flapping is audited once per interval, the
    /// changes in between counted on its row and written with the next event
    /// (`changesNotAudited`), which its first heartbeat with allowance left writes. Without
    /// it (what the controller decides, such as a failed apply) a change is audited at once,
    /// with any count still waiting, and takes nothing from the host's allowance.
    /// - Returns: whether the host's health changed.
    @discardableResult
    func setHealth(
        _ db: Database, host: HostID, healthy: Bool, detail: String, nowMs: Int64, coalescingWithinMs: Int64? = nil
    ) throws -> Bool {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT healthy, health_audit_allowance, health_audited_at_ms, health_changes_unaudited FROM hosts WHERE id = ?",
                arguments: [host.rawValue])
        else { throw StoreError.notFound("host \(host) is not enrolled") }
        let previous: Bool? = row[0], unaudited: Int = row[3]
        let changed = previous != healthy
        if changed {
            try db.execute(
                sql: "UPDATE hosts SET healthy = ?, health_since_ms = ?, health_detail = ? WHERE id = ?",
                arguments: [healthy, nowMs, detail, host.rawValue])
        } else {
            try db.execute(sql: "UPDATE hosts SET health_detail = ? WHERE id = ?", arguments: [detail, host.rawValue])
        }
        guard changed || unaudited > 0 else { return false }
        if let interval = coalescingWithinMs, interval > 0 {
            let burst = Double(HealthBeat.auditBurst)
            let stored: Double? = row[1], at: Int64? = row[2]
            let allowance = min(burst, (stored ?? burst) + Double(max(0, nowMs - (at ?? nowMs))) / Double(interval))
            guard allowance >= 1 else {
                try db.execute(
                    sql: "UPDATE hosts SET health_audit_allowance = ?, health_audited_at_ms = ?, health_changes_unaudited = ? WHERE id = ?",
                    arguments: [allowance, nowMs, unaudited + (changed ? 1 : 0), host.rawValue])
                return changed
            }
            try db.execute(
                sql: "UPDATE hosts SET health_audit_allowance = ?, health_audited_at_ms = ? WHERE id = ?",
                arguments: [allowance - 1, nowMs, host.rawValue])
        }
        // The state the log last showed: each change not audited flipped it once.
        let from = changed ? previous : (unaudited % 2 == 0 ? healthy : !healthy)
        var details = ["detail": Self.auditExcerpt(detail), "from": from.map { $0 ? "healthy" : "unhealthy" } ?? "unknown"]
        if unaudited > 0 { details["changesNotAudited"] = String(unaudited) }
        if unaudited > 0 { try db.execute(sql: "UPDATE hosts SET health_changes_unaudited = 0 WHERE id = ?", arguments: [host.rawValue]) }
        try appendAudit(
            db,
            AuditEvent(
                atMs: nowMs, actor: Actor.agent(host).description, kind: healthy ? "host.healthy" : "host.unhealthy", hostID: host.rawValue,
                region: try label(db, host, "region"), details: json(details)))
        return changed
    }

    /// A health detail as the audit log keeps it: the first 512 bytes (the host's row keeps
    /// all of it until its next heartbeat).
    static func auditExcerpt(_ detail: String) -> String {
        let limit = 512
        guard detail.utf8.count > limit else { return detail }
        var excerpt = ""
        for character in detail {
            guard excerpt.utf8.count + character.utf8.count <= limit else { break }
            excerpt.append(character)
        }
        return excerpt + "… (\(detail.utf8.count) bytes)"
    }
}

extension SluiceDatabase {
    /// An operator declares a host's failed assignments dealt with: they stop holding their
    /// group's `max_unavailable` capacity. Audited with the operator and the reason.
    /// - Returns: how many failed assignments were resolved.
    @discardableResult
    public func resolveFailures(host: HostID, reason: String, actor: Actor, nowMs: Int64) throws -> Int {
        try writer.write { db in
            try db.execute(
                sql: "UPDATE assignments SET resolved_at_ms = ?, updated_at_ms = ? WHERE host_id = ? AND state = 'failed' AND resolved_at_ms IS NULL",
                arguments: [nowMs, nowMs, host.rawValue])
            let count = db.changesCount
            guard count > 0 else { throw StoreError.conflict("host \(host) has no unresolved failed assignment") }
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: actor.description, kind: "host.resolved", hostID: host.rawValue, region: try label(db, host, "region"),
                    details: json(["reason": reason, "assignments": String(count)])))
            return count
        }
    }
}
