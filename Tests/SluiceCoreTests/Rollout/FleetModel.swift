import SluiceCore

/// An in-memory world for the reconciler: one rollout, its assignments, the hosts' health,
/// a clock. It applies actions the way the store does and records every invariant broken.
struct FleetModel {
    var policy: Policy
    var rollout: RolloutStatus
    var assignments: [AssignmentStatus]
    var hosts: [HostID: HostHealth]
    var labels: [HostID: Labels]
    var nowMs: Int64 = 1_000_000_000_000
    var staleAfterMs: Int64 = 5 * 60_000
    /// Hosts that stopped reporting (their lastSeen no longer moves).
    var silent = Set<HostID>()
    var violations: [String] = []
    var log: [String] = []

    init(policy: Policy, fleet: [(HostID, Labels)], packages: [PackagePin]) {
        self.policy = policy
        let fleetHosts = fleet.map { id, labels in
            FleetHost(
                id: id, labels: labels, lastSeenAtMs: 1_000_000_000_000, codename: "bookworm",
                installed: packages.map { InstalledPackage(name: $0.name, architecture: try! Architecture(parsing: "amd64"), version: try! DebianVersion(parsing: "1.0-1"), status: "install ok installed") },
                candidates: packages.map { UpgradeCandidate(name: $0.name, architecture: try! Architecture(parsing: "amd64"), installedVersion: try! DebianVersion(parsing: "1.0-1"), candidateVersion: $0.version, origins: []) })
        }
        let plan = WavePlanner.plan(policy: policy, packages: packages, hosts: fleetHosts, nowMs: 1_000_000_000_000, staleAfterMs: staleAfterMs)
        var next: Int64 = 1
        var assignments: [AssignmentStatus] = []
        for (w, wave) in plan.waves.enumerated() {
            for (b, batch) in wave.batches.enumerated() {
                for host in batch {
                    assignments.append(AssignmentStatus(id: next, rolloutID: 1, hostID: host.hostID, waveIndex: w, batch: b, capacityKey: host.capacityKey, state: .pending))
                    next += 1
                }
            }
        }
        self.assignments = assignments
        self.rollout = RolloutStatus(
            id: 1, policy: policy, state: .running, waves: policy.waves.enumerated().map { WaveStatus(index: $0, name: $1.name, state: .pending) })
        self.labels = Dictionary(uniqueKeysWithValues: fleet)
        self.hosts = Dictionary(uniqueKeysWithValues: fleet.map { ($0.0, HostHealth(lastSeenAtMs: 1_000_000_000_000, healthy: true, sinceMs: 0)) })
    }

    var snapshot: ReconcileSnapshot {
        ReconcileSnapshot(rollouts: [rollout], assignments: assignments, hosts: hosts, labels: labels, staleAfterMs: staleAfterMs)
    }

    func assignment(of host: String) -> AssignmentStatus? { assignments.first { $0.hostID.rawValue == host } }

    /// One reconciler pass, applied.
    mutating func reconcile() {
        let actions = Reconciler.decide(snapshot, nowMs: nowMs)
        for action in actions { apply(action) }
        checkInvariants()
    }

    /// Reconciles until nothing changes (bounded).
    mutating func settle() {
        for _ in 0..<50 {
            let before = (rollout, assignments)
            reconcile()
            if before.0 == rollout && before.1 == assignments { return }
        }
    }

    mutating func apply(_ action: ReconcileAction) {
        log.append("\(nowMs): \(action)")
        switch action {
        case .startWave(_, let wave):
            let spec = policy.waves[wave]
            if spec.approval == .manual && rollout.waves[wave].approvedBy == nil { violations.append("wave \(spec.name) started without approval") }
            if !spec.isOpen(atMs: nowMs) { violations.append("wave \(spec.name) started outside its window") }
            if rollout.waves[..<wave].contains(where: { $0.state != .passed }) { violations.append("wave \(spec.name) started before earlier waves passed") }
            if rollout.state != .running { violations.append("wave \(spec.name) started while \(rollout.state)") }
            rollout.waves[wave].state = .running
        case .startAssignment(_, let id, let host):
            guard let i = assignments.firstIndex(where: { $0.id == id }) else { return }
            if rollout.state != .running { violations.append("\(host) started while rollout \(rollout.state)") }
            if assignments[i].state != .pending { violations.append("\(host) started twice") }
            if isStale(host) { violations.append("\(host) started while stale") }
            assignments[i].state = .started
            assignments[i].startedAtMs = nowMs
        case .expireAssignment(_, let id, let host, let deadline):
            guard let i = assignments.firstIndex(where: { $0.id == id }) else { return }
            if !assignments[i].state.isInFlight { violations.append("\(host) expired while \(assignments[i].state)") }
            if let started = assignments[i].startedAtMs, nowMs - started <= deadline * 1000 { violations.append("\(host) expired before its deadline") }
            assignments[i].state = .failed
        case .beginSoak(_, let wave):
            rollout.waves[wave].state = .soaking
            rollout.waves[wave].soakStartedAtMs = nowMs
        case .passWave(_, let wave):
            let spec = policy.waves[wave]
            let mine = assignments.filter { $0.waveIndex == wave }
            if !mine.isEmpty {
                guard let started = rollout.waves[wave].soakStartedAtMs else {
                    violations.append("wave \(spec.name) passed without soaking")
                    return
                }
                if nowMs - started < spec.soakSeconds * 1000 { violations.append("wave \(spec.name) passed before its soak elapsed") }
                for a in mine where a.state == .succeeded && isStale(a.hostID) {
                    violations.append("wave \(spec.name) passed while \(a.hostID) was stale")
                }
            }
            rollout.waves[wave].state = .passed
        case .halt(_, let wave, let reason), .haltAndRevert(_, let wave, let reason, _):
            rollout.state = .halted
            rollout.waves[wave].state = .failed
            for i in assignments.indices where assignments[i].state == .pending || assignments[i].state == .started {
                assignments[i].state = .cancelled
            }
            log.append("halted: \(reason)")
        case .complete:
            if rollout.waves.contains(where: { $0.state != .passed }) { violations.append("completed with unpassed waves") }
            rollout.state = .completed
        case .reportSilent:
            break
        }
    }

    /// Silent for longer than the controller tolerates: the controller can know it.
    func isStale(_ host: HostID) -> Bool { nowMs - (hosts[host]?.lastSeenAtMs ?? 0) > staleAfterMs }

    mutating func checkInvariants() {
        // 1 and 3: a wave's hosts start only after every earlier wave passed.
        for a in assignments where a.state != .pending && a.state != .cancelled {
            if rollout.waves[..<a.waveIndex].contains(where: { $0.state != .passed }) {
                violations.append("\(a.hostID) of wave \(a.waveIndex) active before earlier waves passed")
            }
        }
        // 2: max_unavailable per group.
        var holding: [String: Int] = [:]
        for a in assignments where a.holdsCapacity { holding[a.capacityKey, default: 0] += 1 }
        for (key, count) in holding where count > policy.groups.maxUnavailable {
            violations.append("group \(key) has \(count) members unavailable (max \(policy.groups.maxUnavailable))")
        }
    }

    // MARK: events

    mutating func advance(minutes: Int) {
        advance(ms: Int64(minutes) * 60_000)
    }

    mutating func advance(ms: Int64) {
        nowMs += ms
        heartbeat()
    }

    /// Every host that is not silent reports, keeping its health.
    mutating func heartbeat() {
        for id in hosts.keys where !silent.contains(id) { hosts[id]!.lastSeenAtMs = nowMs }
    }

    mutating func setHealth(_ host: HostID, healthy: Bool) {
        guard hosts[host]?.healthy != healthy else { return }
        hosts[host]!.healthy = healthy
        hosts[host]!.sinceMs = nowMs
    }

    /// The agent of a started assignment runs it to `outcome` (a silent agent does nothing).
    mutating func agentFinishes(_ host: HostID, outcome: AssignmentState) {
        guard !silent.contains(host), let i = assignments.firstIndex(where: { $0.hostID == host && $0.state.isInFlight }) else { return }
        assignments[i].state = outcome
        if outcome == .failed { setHealth(host, healthy: false) }
        hosts[host]!.lastSeenAtMs = nowMs
    }

    mutating func approve(wave: Int, by: String = "operator:alice") {
        if rollout.waves[wave].approvedBy == nil { rollout.waves[wave].approvedBy = by }
    }

    mutating func pause() { if rollout.state == .running { rollout.state = .paused } }
    mutating func resume() { if rollout.state == .paused { rollout.state = .running } }
}
