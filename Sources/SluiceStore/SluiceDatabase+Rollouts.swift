import Foundation
import GRDB
import SluiceCore

extension SluiceDatabase {
    /// Every enrolled host with what it last reported, for planning.
    /// - Parameter installedNames: read the installed packages of these names only (a plan
    ///   looks at no other), or all of them when nil. A fleet's full package lists are
    ///   hundreds of rows per host: 10,000 hosts of 500 packages took gigabytes to hold.
    public func fleetHosts(installedNames: Set<String>? = nil) throws -> [FleetHost] {
        try writer.read { db in
            var labels: [String: [String: String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT host_id, key, value FROM host_labels") {
                labels[row["host_id"], default: [:]][row["key"]] = row["value"]
            }
            var installed: [String: [InstalledPackage]] = [:]
            let names = installedNames.map { $0.sorted() }
            let installedRows: RowCursor? =
                switch names {
                case nil: try Row.fetchCursor(db, sql: "SELECT host_id, name, architecture, version, status FROM installed_packages")
                case let names? where names.isEmpty: nil
                case let names?:
                    try Row.fetchCursor(
                        db,
                        sql: "SELECT host_id, name, architecture, version, status FROM installed_packages WHERE name IN (\(names.map { _ in "?" }.joined(separator: ",")))",
                        arguments: StatementArguments(names))
                }
            while let row = try installedRows?.next() {
                installed[row["host_id"], default: []].append(
                    InstalledPackage(
                        name: try PackageName(parsing: row["name"]), architecture: try Architecture(parsing: row["architecture"]),
                        version: try DebianVersion(parsing: row["version"]), status: row["status"]))
            }
            var candidates: [String: [UpgradeCandidate]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM upgrade_candidates") {
                candidates[row["host_id"], default: []].append(
                    UpgradeCandidate(
                        name: try PackageName(parsing: row["name"]), architecture: try Architecture(parsing: row["architecture"]),
                        installedVersion: try (row["installed_version"] as String?).map { try DebianVersion(parsing: $0) },
                        candidateVersion: try DebianVersion(parsing: row["candidate_version"]), origins: []))
            }
            // Origins matter for qualifying; load them per candidate.
            var origins: [String: [PackageOrigin]] = [:]
            for o in try Row.fetchAll(db, sql: "SELECT * FROM candidate_origins ORDER BY position") {
                origins["\(o["host_id"] as String)/\(o["name"] as String)/\(o["architecture"] as String)", default: []].append(
                    PackageOrigin(origin: o["origin"], label: o["label"], archive: o["archive"], codename: o["codename"], component: o["component"], site: o["site"]))
            }
            return try Row.fetchAll(db, sql: "SELECT id, last_seen_at_ms, os_codename FROM hosts WHERE revoked_at_ms IS NULL ORDER BY id").map { row in
                let id: String = row["id"]
                let hostCandidates = (candidates[id] ?? []).map { c -> UpgradeCandidate in
                    var c = c
                    c.origins = origins["\(id)/\(c.name)/\(c.architecture)"] ?? []
                    return c
                }
                return FleetHost(
                    id: try HostID(parsing: id), labels: try Labels(validating: labels[id] ?? [:]), lastSeenAtMs: row["last_seen_at_ms"],
                    codename: row["os_codename"], installed: installed[id] ?? [], candidates: hostCandidates)
            }
        }
    }

    /// Stores a planned rollout: the frozen policy and package set, its waves and every
    /// assignment, and the audit event, in one transaction.
    /// - Throws: `StoreError.conflict` when the policy already has an open rollout.
    public func createRollout(policy: Policy, plan: RolloutPlan, actor: Actor, nowMs: Int64) throws -> Int64 {
        guard !plan.packages.isEmpty else { throw StoreError.invalid("the package set is empty: nothing qualifies for policy \(policy.name)") }
        guard plan.waves.contains(where: { !$0.hosts.isEmpty }) else {
            throw StoreError.invalid("no host takes any package of the set under policy \(policy.name)")
        }
        let encoder = JSONEncoder.sorted
        let policyJSON = String(decoding: try encoder.encode(policy), as: UTF8.self)
        let warnings = String(decoding: try encoder.encode(plan.warnings), as: UTF8.self)
        let simulation = try plan.simulation.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        return try writer.write { db in
            if let open = try Int64.fetchOne(
                db, sql: "SELECT id FROM rollouts WHERE policy_name = ? AND state IN ('running', 'paused')", arguments: [policy.name])
            {
                throw StoreError.conflict("policy \(policy.name) already has an open rollout (\(open)); finish, halt or abort it first")
            }
            // The plan was made from an earlier read: a host revoked since then must not get
            // an assignment it can never poll (it would hold its group as silent).
            for host in plan.waves.flatMap(\.hosts) {
                if try Int64.fetchOne(db, sql: "SELECT revoked_at_ms FROM hosts WHERE id = ?", arguments: [host.hostID.rawValue]) != nil {
                    throw StoreError.conflict("host \(host.hostID) was revoked while the rollout was being planned; plan again")
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO rollouts (policy_name, policy, state, warnings, simulation, created_at_ms, created_by, updated_at_ms)
                    VALUES (?, ?, 'running', ?, ?, ?, ?, ?)
                    """, arguments: [policy.name, policyJSON, warnings, simulation, nowMs, actor.description, nowMs])
            let id = db.lastInsertedRowID
            for pin in plan.packages {
                try db.execute(sql: "INSERT INTO rollout_packages VALUES (?, ?, ?)", arguments: [id, pin.name.description, pin.version.description])
            }
            for (index, wave) in plan.waves.enumerated() {
                try db.execute(sql: "INSERT INTO waves (rollout_id, idx, name, state) VALUES (?, ?, ?, 'pending')", arguments: [id, index, wave.name])
                for (batch, hosts) in wave.batches.enumerated() {
                    for host in hosts {
                        try db.execute(
                            sql: """
                                INSERT INTO assignments (rollout_id, host_id, wave_idx, batch, capacity_key, packages, state, updated_at_ms)
                                VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)
                                """,
                            arguments: [
                                id, host.hostID.rawValue, index, batch, host.capacityKey,
                                String(decoding: try encoder.encode(host.packages), as: UTF8.self), nowMs,
                            ])
                    }
                }
            }
            let summary = plan.waves.map { "\($0.name): \($0.hosts.count)" }.joined(separator: ", ")
            var details = ["policy": policy.name, "waves": summary, "warnings": String(plan.warnings.count)]
            if !plan.included.isEmpty { details["included"] = plan.included.map(\.description).joined(separator: " ") }
            if let simulated = plan.simulation {
                details["simulated"] = "\(simulated.groups.reduce(0) { $0 + $1.hosts.count }) answered, \(simulated.unknown.count) unknown"
            }
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: actor.description, kind: "rollout.created", rolloutID: id,
                    package: plan.packages.map(\.description).joined(separator: " "),
                    details: json(details)))
            try alertIfWaitingForApproval(db, rollout: id, nowMs: nowMs)
            return id
        }
    }

    /// Every rollout, newest first.
    public func listRollouts(limit: Int = 200) throws -> [RolloutSummary] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rollouts ORDER BY id DESC LIMIT ?", arguments: [limit]).map { try rolloutSummary(db, row: $0) }
        }
    }

    /// One rollout with its waves, hosts and what it waits on.
    public func rolloutDetail(_ id: Int64, nowMs: Int64, staleAfterMs: Int64) throws -> RolloutDetail {
        try writer.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM rollouts WHERE id = ?", arguments: [id]) else {
                throw StoreError.notFound("rollout \(id) does not exist")
            }
            let summary = try rolloutSummary(db, row: row)
            let status = try rolloutStatus(db, row: row)
            let all = try assignmentStatuses(db, sql: "SELECT * FROM assignments WHERE rollout_id = ? OR (state IN ('started','applying','verifying') OR (state = 'failed' AND resolved_at_ms IS NULL))", arguments: [id])
            let details = try Row.fetchAll(db, sql: "SELECT id, detail FROM assignments WHERE rollout_id = ?", arguments: [id])
            let detailByID = Dictionary(uniqueKeysWithValues: details.map { ($0["id"] as Int64, $0["detail"] as String?) })
            let waves = status.waves.map { wave in
                let spec = status.policy.waves[wave.index]
                return WaveDetail(
                    index: wave.index, name: wave.name, state: wave.state, approval: spec.approval, approvedBy: wave.approvedBy,
                    soakSeconds: spec.soakSeconds, soakStartedAtMs: wave.soakStartedAtMs,
                    hosts: all.filter { $0.rolloutID == id && $0.waveIndex == wave.index }.map {
                        AssignmentDetail(id: $0.id, hostID: $0.hostID, batch: $0.batch, group: $0.capacityKey, state: $0.state, detail: detailByID[$0.id] ?? nil)
                    })
            }
            let snapshot = ReconcileSnapshot(
                rollouts: [status], assignments: all, hosts: try hostHealth(db), labels: try hostLabels(db), staleAfterMs: staleAfterMs)
            let warnings = try JSONDecoder().decode([String].self, from: Data((row["warnings"] as String).utf8))
            let simulation = try (row["simulation"] as String?).map { try JSONDecoder().decode(PlanSimulation.self, from: Data($0.utf8)) }
            return RolloutDetail(
                summary: summary, waves: waves, warnings: warnings,
                waitingOn: RolloutDetail.waitingOn(rollout: status, snapshot: snapshot, nowMs: nowMs),
                simulation: simulation)
        }
    }

    func rolloutSummary(_ db: Database, row: Row) throws -> RolloutSummary {
        let id: Int64 = row["id"]
        let packages = try Row.fetchAll(db, sql: "SELECT name, version FROM rollout_packages WHERE rollout_id = ? ORDER BY name, version", arguments: [id]).map {
            PackagePin(name: try PackageName(parsing: $0["name"]), version: try DebianVersion(parsing: $0["version"]))
        }
        var counts: [String: Int] = [:]
        for r in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM assignments WHERE rollout_id = ? GROUP BY state", arguments: [id]) {
            counts[r["state"]] = r["n"]
        }
        let current = try String.fetchOne(db, sql: "SELECT name FROM waves WHERE rollout_id = ? AND state != 'passed' ORDER BY idx LIMIT 1", arguments: [id])
        guard let state = RolloutState(rawValue: row["state"]) else { throw StoreError.invalid("rollout \(id) has an unknown state") }
        return RolloutSummary(
            id: id, policy: row["policy_name"], state: state, reason: row["reason"], createdAtMs: row["created_at_ms"], createdBy: row["created_by"],
            packages: packages, currentWave: current, counts: counts, revertOf: row["revert_of"])
    }

    func rolloutStatus(_ db: Database, row: Row) throws -> RolloutStatus {
        let id: Int64 = row["id"]
        let policy = try JSONDecoder().decode(Policy.self, from: Data((row["policy"] as String).utf8))
        let waves = try Row.fetchAll(db, sql: "SELECT * FROM waves WHERE rollout_id = ? ORDER BY idx", arguments: [id]).map {
            WaveStatus(
                index: $0["idx"], name: $0["name"], state: WaveState(rawValue: $0["state"]) ?? .failed, approvedBy: $0["approved_by"],
                soakStartedAtMs: $0["soak_started_at_ms"])
        }
        return RolloutStatus(id: id, policy: policy, state: RolloutState(rawValue: row["state"]) ?? .halted, waves: waves, revertOf: row["revert_of"])
    }

    func assignmentStatuses(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [AssignmentStatus] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map {
            AssignmentStatus(
                id: $0["id"], rolloutID: $0["rollout_id"], hostID: try HostID(parsing: $0["host_id"]), waveIndex: $0["wave_idx"],
                batch: $0["batch"], capacityKey: $0["capacity_key"], state: AssignmentState(rawValue: $0["state"]) ?? .failed,
                resolved: ($0["resolved_at_ms"] as Int64?) != nil, startedAtMs: $0["started_at_ms"])
        }
    }

    /// Every enrolled (not revoked) host's labels.
    func hostLabels(_ db: Database) throws -> [HostID: Labels] {
        var values: [String: [String: String]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id FROM hosts WHERE revoked_at_ms IS NULL") { values[row["id"]] = [:] }
        for row in try Row.fetchAll(
            db, sql: "SELECT l.host_id, l.key, l.value FROM host_labels l JOIN hosts h ON h.id = l.host_id WHERE h.revoked_at_ms IS NULL")
        {
            values[row["host_id"], default: [:]][row["key"]] = row["value"]
        }
        var out: [HostID: Labels] = [:]
        for (id, labels) in values { out[try HostID(parsing: id)] = try Labels(validating: labels) }
        return out
    }

    func hostHealth(_ db: Database) throws -> [HostID: HostHealth] {
        var out: [HostID: HostHealth] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, last_seen_at_ms, healthy, health_since_ms FROM hosts WHERE revoked_at_ms IS NULL") {
            out[try HostID(parsing: row["id"])] = HostHealth(lastSeenAtMs: row["last_seen_at_ms"], healthy: row["healthy"], sinceMs: row["health_since_ms"])
        }
        return out
    }
}
