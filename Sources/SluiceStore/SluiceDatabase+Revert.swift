import Foundation
import GRDB
import SluiceCore

extension SluiceDatabase {
    /// Creates a revert rollout: for each host `rollout` changed (its assignment `succeeded`
    /// with versions to go back to) and that no revert took yet, an assignment of its own
    /// that reinstalls the exact versions the host had before, from the agent's saved packages.
    /// It goes through the same gates as any rollout: one wave, `revert`, started by the
    /// reconciler within each group's `max_unavailable`, with the policy's validations and
    /// health checks, and a failure halts it.
    /// - Parameters:
    ///   - rollout: the rollout to revert; it must have ended (completed, halted or aborted).
    ///   - host: only this host; every changed host when nil.
    ///   - reason: why, audited.
    ///   - automatic: the reconciler asked for it (`on_failure: revert`), not an operator.
    /// - Throws: `StoreError.notFound` for an unknown rollout or a host not in it,
    ///   `StoreError.conflict` when the rollout is still open, is itself a revert, the host
    ///   was not changed or is already reverted, or the policy has another open rollout.
    /// - Returns: the revert rollout's id.
    public func revertRollout(_ rollout: Int64, host: HostID?, reason: String, actor: Actor, nowMs: Int64) throws -> Int64 {
        try writer.write { db in try createRevert(db, of: rollout, hosts: host.map { [$0] }, reason: reason, actor: actor, nowMs: nowMs) }
    }

    /// The ids of this host's succeeded assignments whose saved packages it keeps: those of
    /// open rollouts, and of rollouts that ended less than `retentionMs` ago.
    public func savedPackagesToKeep(host: HostID, nowMs: Int64, retentionMs: Int64) throws -> [Int64] {
        try writer.read { db in try savedPackagesToKeep(db, host: host, nowMs: nowMs, retentionMs: retentionMs) }
    }

    func savedPackagesToKeep(_ db: Database, host: HostID, nowMs: Int64, retentionMs: Int64) throws -> [Int64] {
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT a.id FROM assignments a JOIN rollouts r ON r.id = a.rollout_id
                    WHERE a.host_id = ? AND a.state = ? AND (r.state IN (?, ?) OR r.updated_at_ms >= ?) ORDER BY a.id
                    """,
                arguments: [host.rawValue, AssignmentState.succeeded.rawValue, RolloutState.running.rawValue, RolloutState.paused.rawValue, nowMs - retentionMs])
    }

    /// `revertRollout` inside a transaction: also what a `haltAndRevert` action runs after its halt.
    /// - Parameter hosts: the hosts to revert; every changed host not reverted yet when nil.
    func createRevert(_ db: Database, of rollout: Int64, hosts: [HostID]?, reason: String, actor: Actor, nowMs: Int64) throws -> Int64 {
        guard let row = try Row.fetchOne(db, sql: "SELECT policy_name, policy, state, revert_of FROM rollouts WHERE id = ?", arguments: [rollout]) else {
            throw StoreError.notFound("rollout \(rollout) does not exist")
        }
        let state = RolloutState(rawValue: row["state"]) ?? .halted
        guard state.isFinished else {
            throw StoreError.conflict("rollout \(rollout) is \(state.rawValue); abort it (or let it end) before reverting it")
        }
        if let original: Int64 = row["revert_of"] {
            throw StoreError.conflict("rollout \(rollout) is itself a revert (of rollout \(original)); create a new rollout instead")
        }
        let policyName: String = row["policy_name"]
        if let open = try Int64.fetchOne(db, sql: "SELECT id FROM rollouts WHERE policy_name = ? AND state IN (?, ?)", arguments: [policyName, RolloutState.running.rawValue, RolloutState.paused.rawValue]) {
            throw StoreError.conflict("policy \(policyName) has an open rollout (\(open)); a revert waits until it ends")
        }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT a.id, a.host_id, a.state, a.capacity_key, a.versions_before,
                       (SELECT r.rollout_id FROM assignments r WHERE r.reverts_assignment = a.id AND r.state NOT IN (?, ?) ORDER BY r.id DESC LIMIT 1) AS reverted_by
                FROM assignments a WHERE a.rollout_id = ? ORDER BY a.host_id
                """, arguments: [AssignmentState.cancelled.rawValue, AssignmentState.refused.rawValue, rollout])
        var targets: [(assignment: Int64, host: String, group: String, pins: [PackagePin])] = []
        for host in hosts ?? [] where !rows.contains(where: { ($0["host_id"] as String) == host.rawValue }) {
            throw StoreError.notFound("host \(host) has no assignment in rollout \(rollout)")
        }
        for candidate in rows {
            let hostID: String = candidate["host_id"]
            if let hosts, !hosts.contains(where: { $0.rawValue == hostID }) { continue }
            let pins = try Self.previousVersions(candidate["versions_before"])
            let assignmentState: String = candidate["state"]
            guard assignmentState == AssignmentState.succeeded.rawValue, !pins.isEmpty else {
                guard hosts == nil else {
                    throw StoreError.conflict("host \(hostID) was not changed by rollout \(rollout) (its assignment is \(assignmentState)); nothing to revert")
                }
                continue
            }
            if let by: Int64 = candidate["reverted_by"] {
                guard hosts == nil else { throw StoreError.conflict("host \(hostID) of rollout \(rollout) is already reverted by rollout \(by)") }
                continue
            }
            targets.append((candidate["id"], hostID, candidate["capacity_key"], pins))
        }
        guard !targets.isEmpty else { throw StoreError.conflict("rollout \(rollout) changed no host that is not reverted already; nothing to revert") }

        let original = try JSONDecoder().decode(Policy.self, from: Data((row["policy"] as String).utf8))
        let policy = Self.revertPolicy(original)
        let encoder = JSONEncoder.sorted
        try db.execute(
            sql: """
                INSERT INTO rollouts (policy_name, policy, state, warnings, created_at_ms, created_by, updated_at_ms, revert_of)
                VALUES (?, ?, ?, '[]', ?, ?, ?, ?)
                """,
            arguments: [policyName, String(decoding: try encoder.encode(policy), as: UTF8.self), RolloutState.running.rawValue, nowMs, actor.description, nowMs, rollout])
        let id = db.lastInsertedRowID
        let pins = Set(targets.flatMap(\.pins)).sorted { $0.description < $1.description }
        for pin in pins {
            try db.execute(sql: "INSERT INTO rollout_packages VALUES (?, ?, ?)", arguments: [id, pin.name.description, pin.version.description])
        }
        try db.execute(sql: "INSERT INTO waves (rollout_id, idx, name, state) VALUES (?, 0, ?, ?)", arguments: [id, Self.revertWave, WaveState.pending.rawValue])
        for target in targets {
            try db.execute(
                sql: """
                    INSERT INTO assignments (rollout_id, host_id, wave_idx, batch, capacity_key, packages, state, updated_at_ms, reverts_assignment)
                    VALUES (?, ?, 0, 0, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    id, target.host, target.group, String(decoding: try encoder.encode(target.pins), as: UTF8.self), AssignmentState.pending.rawValue, nowMs,
                    target.assignment,
                ])
        }
        let hostList = targets.map(\.host).joined(separator: " ")
        try appendAudit(
            db,
            AuditEvent(
                atMs: nowMs, actor: actor.description, kind: "rollout.created", rolloutID: id, package: pins.map(\.description).joined(separator: " "),
                details: json(["policy": policyName, "waves": "\(Self.revertWave): \(targets.count)", "revertOf": String(rollout), "reason": reason])))
        try appendAudit(
            db,
            AuditEvent(
                atMs: nowMs, actor: actor.description, kind: "rollout.revert-requested", rolloutID: rollout,
                details: json(["revertRollout": String(id), "hosts": hostList, "reason": reason, "versions": pins.map(\.description).joined(separator: " ")])))
        return id
    }

    /// The wave of every revert rollout.
    public static let revertWave = "revert"

    /// The original's groups, roles (validations, health checks, hooks) and apply deadline, with
    /// one wave that takes every host at once (each group's `max_unavailable` still holds), no
    /// approval, no soak, and a first failure that halts.
    static func revertPolicy(_ original: Policy) -> Policy {
        var policy = original
        policy.schedule = nil
        policy.onFailure = .halt
        policy.waves = [
            WaveSpec(
                name: revertWave, selector: [:], strategy: .all, soakSeconds: 0, approval: .auto, failureBudget: 0,
                applyDeadlineSeconds: original.waves.map(\.applyDeadlineSeconds).max() ?? WaveSpec.defaultApplyDeadlineSeconds)
        ]
        return policy
    }

    /// The pins of an assignment's `versions_before`, by name.
    static func previousVersions(_ text: String?) throws -> [PackagePin] {
        guard let text else { return [] }
        let map = try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
        return try map.keys.sorted().map { PackagePin(name: try PackageName(parsing: $0), version: try DebianVersion(parsing: map[$0]!)) }
    }

    /// The end of a revert's assignment, audited on the rollout it reverts too, so that
    /// rollout's postmortem tells what became of its hosts.
    func recordRevertOutcome(_ db: Database, assignment: Int64, host: HostID, report: ApplyStepReport, state: AssignmentState, nowMs: Int64) throws {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT a.rollout_id AS revert, o.rollout_id AS original, a.packages FROM assignments a JOIN assignments o ON o.id = a.reverts_assignment
                    WHERE a.id = ?
                    """, arguments: [assignment])
        else { return }
        let revert: Int64 = row["revert"]
        // The agent's health checks passed after the revert's restart: the host that was
        // unhealthy on the reverted versions is healthy now, as its revert rollout must see
        // before its next heartbeat to pass rather than halt.
        if state == .succeeded { try setHealth(db, host: host, healthy: true, detail: "healthy after the revert: \(report.detail)", nowMs: nowMs) }
        let pins = try JSONDecoder().decode([PackagePin].self, from: Data((row["packages"] as String).utf8))
        try appendAudit(
            db,
            AuditEvent(
                atMs: nowMs, actor: Actor.agent(host).description, kind: "revert.finished", rolloutID: row["original"], hostID: host.rawValue,
                region: try label(db, host, "region"), groupKey: try capacityKey(db, assignment),
                details: json([
                    "revertRollout": String(revert), "state": state.rawValue, "outcome": report.outcome?.rawValue, "detail": report.detail,
                    "versions": pins.map(\.description).joined(separator: " "),
                ])))
    }
}
