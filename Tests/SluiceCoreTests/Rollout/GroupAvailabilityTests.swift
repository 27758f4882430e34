import PropertyBased
import SluiceCore
import Testing

/// One availability budget per redundancy group, whatever the rollout: counted over every
/// member, under each rollout's own policy, with members down outside any rollout included.
@Suite("Reconciler: one availability budget per group across rollouts and policies")
struct GroupAvailabilityTests {
    static func host(_ id: String) -> HostID { try! HostID(parsing: id) }
    static let now: Int64 = 1_000_000_000_000
    static let bind = try! PackagePin(parsing: "bind9=1:9.18.28-1~deb12u2")

    static let byRegion = GroupRules(labels: ["role", "region"], maxUnavailable: 1)
    static let byRole = GroupRules(labels: ["role"], maxUnavailable: 1)

    static func policy(_ name: String, _ groups: GroupRules) -> Policy {
        Policy(name: name, groups: groups, waves: [WaveSpec(name: "all", selector: [:], failureBudget: 100)])
    }

    /// dns1/dns2 in fra, dns3/dns4 in ams, all role dns.
    static let labels: [HostID: Labels] = Dictionary(uniqueKeysWithValues: [("dns1", "fra"), ("dns2", "fra"), ("dns3", "ams"), ("dns4", "ams")].map {
        (host($0.0), try! Labels(validating: ["role": "dns", "region": $0.1]))
    })

    /// Rollout `id` of `policy` over `hosts`, its wave running, every host pending.
    static func rollout(_ id: Int64, _ policy: Policy, _ hosts: [String], firstAssignment: Int64) -> (RolloutStatus, [AssignmentStatus]) {
        let status = RolloutStatus(id: id, policy: policy, state: .running, waves: [WaveStatus(index: 0, name: "all", state: .running)])
        let assignments = hosts.enumerated().map { i, name in
            AssignmentStatus(
                id: firstAssignment + Int64(i), rolloutID: id, hostID: host(name), waveIndex: 0, batch: 0,
                capacityKey: policy.groups.groupKey(for: labels[host(name)]!) ?? "host:\(name)", state: .pending)
        }
        return (status, assignments)
    }

    static func healthy(except down: [String: Bool] = [:]) -> [HostID: HostHealth] {
        Dictionary(uniqueKeysWithValues: labels.keys.map { ($0, HostHealth(lastSeenAtMs: now, healthy: down[$0.rawValue].map { !$0 } ?? true, sinceMs: 0)) })
    }

    static func started(_ actions: [ReconcileAction]) -> [String] {
        actions.compactMap { if case .startAssignment(_, _, let h) = $0 { h.rawValue } else { nil } }.sorted()
    }

    @Test func aHostDownOutsideAnyRolloutCountsAgainstItsGroup() {
        let (r, a) = Self.rollout(1, Self.policy("p", Self.byRegion), ["dns1", "dns3"], firstAssignment: 1)
        // dns2 is in no rollout, and unhealthy: fra has no spare, dns1 waits; ams goes ahead.
        let snapshot = ReconcileSnapshot(rollouts: [r], assignments: a, hosts: Self.healthy(except: ["dns2": true]), labels: Self.labels, staleAfterMs: 300_000)
        #expect(Self.started(Reconciler.decide(snapshot, nowMs: Self.now)) == ["dns3"])
        #expect(RolloutDetail.waitingOn(rollout: r, snapshot: snapshot, nowMs: Self.now).contains("host dns1 waits: group dns@fra has 1 member(s) unavailable"))
        // A host silent outside any rollout counts too.
        var silent = snapshot
        silent.hosts[Self.host("dns2")] = HostHealth(lastSeenAtMs: Self.now - 400_000, healthy: true, sinceMs: 0)
        #expect(Self.started(Reconciler.decide(silent, nowMs: Self.now)) == ["dns3"])
    }

    @Test func twoPoliciesWithDifferentGroupLabelsShareOneBudgetPerGroupAsEachPolicyDrawsIt() {
        // Rollout 1 (groups by role and region) has dns2 in flight; rollout 2 groups by role only.
        var (r1, a1) = Self.rollout(1, Self.policy("by-region", Self.byRegion), ["dns2"], firstAssignment: 1)
        a1[0].state = .applying
        r1.waves[0].state = .running
        let (r2, a2) = Self.rollout(2, Self.policy("by-role", Self.byRole), ["dns1", "dns3"], firstAssignment: 10)
        let snapshot = ReconcileSnapshot(rollouts: [r1, r2], assignments: a1 + a2, hosts: Self.healthy(), labels: Self.labels, staleAfterMs: 300_000)
        // Under by-role, all four are one group whose one allowed member (dns2) is taken.
        #expect(Self.started(Reconciler.decide(snapshot, nowMs: Self.now)) == [])

        // And the other way round: by-region's rollout waits for fra while by-role's has dns1 in flight.
        var (r3, a3) = Self.rollout(3, Self.policy("by-role", Self.byRole), ["dns1"], firstAssignment: 20)
        a3[0].state = .applying
        r3.waves[0].state = .running
        let (r4, a4) = Self.rollout(4, Self.policy("by-region", Self.byRegion), ["dns2", "dns4"], firstAssignment: 30)
        let other = ReconcileSnapshot(rollouts: [r3, r4], assignments: a3 + a4, hosts: Self.healthy(), labels: Self.labels, staleAfterMs: 300_000)
        #expect(Self.started(Reconciler.decide(other, nowMs: Self.now)) == ["dns4"])
    }

    @Test func aGroupWhoseOnlyAvailableMemberIsTheLastOneNeverLosesItWhateverMaxUnavailableAllows() {
        let generous = Self.policy("generous", GroupRules(labels: ["role", "region"], maxUnavailable: 2))
        let (r, a) = Self.rollout(1, generous, ["dns1", "dns2"], firstAssignment: 1)
        // dns2 is down; dns1 is fra's last available member.
        let snapshot = ReconcileSnapshot(rollouts: [r], assignments: a, hosts: Self.healthy(except: ["dns2": true]), labels: Self.labels, staleAfterMs: 300_000)
        #expect(Self.started(Reconciler.decide(snapshot, nowMs: Self.now)) == [])
        #expect(RolloutDetail.waitingOn(rollout: r, snapshot: snapshot, nowMs: Self.now).contains("host dns1 waits: group dns@fra would lose its last available member"))
        // Both healthy: max_unavailable 2 still leaves one of the pair serving.
        let both = ReconcileSnapshot(rollouts: [r], assignments: a, hosts: Self.healthy(), labels: Self.labels, staleAfterMs: 300_000)
        #expect(Self.started(Reconciler.decide(both, nowMs: Self.now)) == ["dns1"])
    }

    /// Random fleets, three policies with different group rules and budgets, one rollout each
    /// over random hosts, random finishes, failures, resolutions and health changes: no start
    /// ever takes a group past its policy's budget or takes its last available member.
    @Test func noStartEverExceedsAGroupsBudgetUnderItsPolicyAcrossConcurrentRollouts() async {
        await propertyCheck(
            count: 200,
            input: Gen.int(in: 1...3), Gen.int(in: 1...4), Gen.int(in: 0...999).array(of: 20...150)
        ) { regions, members, events in
            var world = MultiRolloutWorld(regions: regions, members: members, seed: events.first ?? 0)
            for code in events {
                world.step(code)
                #expect(world.violations.isEmpty, "\(world.violations)")
                if !world.violations.isEmpty { return }
            }
        }
    }
}

/// Several rollouts of several policies over one fleet, driven by the real reconciler, with
/// an oracle that counts each group's unavailable members directly.
struct MultiRolloutWorld {
    var labels: [HostID: Labels] = [:]
    var health: [HostID: HostHealth] = [:]
    var rollouts: [RolloutStatus] = []
    var assignments: [AssignmentStatus] = []
    var violations: [String] = []
    let nowMs: Int64 = 1_000_000_000_000

    static let rules = [
        GroupRules(labels: ["role", "region"], maxUnavailable: 1), GroupRules(labels: ["role"], maxUnavailable: 2),
        GroupRules(labels: ["region"], maxUnavailable: 3),
    ]

    init(regions: Int, members: Int, seed: Int) {
        var hosts: [HostID] = []
        for region in 0..<regions {
            for role in 0..<2 {
                for m in 0..<members {
                    let id = try! HostID(parsing: "h\(region)-\(role)-\(m)")
                    hosts.append(id)
                    labels[id] = try! Labels(validating: ["role": "r\(role)", "region": "g\(region)"])
                    health[id] = HostHealth(lastSeenAtMs: nowMs, healthy: true, sinceMs: 0)
                }
            }
        }
        var next: Int64 = 1
        for (i, rules) in Self.rules.enumerated() {
            let policy = Policy(name: "p\(i)", groups: rules, waves: [WaveSpec(name: "all", selector: [:], failureBudget: 1000)])
            rollouts.append(RolloutStatus(id: Int64(i + 1), policy: policy, state: .running, waves: [WaveStatus(index: 0, name: "all", state: .pending)]))
            // A different random subset per rollout.
            for (j, host) in hosts.enumerated() where (seed + j * (i + 3)) % 3 != 0 {
                assignments.append(
                    AssignmentStatus(
                        id: next, rolloutID: Int64(i + 1), hostID: host, waveIndex: 0, batch: 0,
                        capacityKey: rules.groupKey(for: labels[host]!) ?? "host:\(host)", state: .pending))
                next += 1
            }
        }
    }

    var snapshot: ReconcileSnapshot {
        ReconcileSnapshot(rollouts: rollouts, assignments: assignments, hosts: health, labels: labels, staleAfterMs: 300_000)
    }

    mutating func step(_ code: Int) {
        let hosts = labels.keys.sorted()
        let pick = hosts[code % hosts.count]
        switch code % 6 {
        case 0, 1:
            // Something in flight ends: mostly success, sometimes failure.
            if let i = assignments.firstIndex(where: { $0.state.isInFlight && ($0.hostID == pick || code % 4 == 0) }) {
                assignments[i].state = code % 5 == 0 ? .failed : .succeeded
            }
        case 2:
            if let i = assignments.firstIndex(where: { $0.state == .failed && !$0.resolved }) { assignments[i].resolved = true }
        case 3:
            health[pick]?.healthy = code % 3 != 0
        default:
            break
        }
        reconcile()
    }

    mutating func reconcile() {
        for action in Reconciler.decide(snapshot, nowMs: nowMs) {
            switch action {
            case .startWave(let r, let w):
                if let i = rollouts.firstIndex(where: { $0.id == r }) { rollouts[i].waves[w].state = .running }
            case .startAssignment(let r, let id, let host):
                check(host, rollout: r)
                if let i = assignments.firstIndex(where: { $0.id == id }) { assignments[i].state = .started }
            default:
                break  // soaks, passes and completions do not change who is unavailable
            }
        }
    }

    /// The oracle: counted from the world directly, under the starting rollout's policy.
    mutating func check(_ host: HostID, rollout: Int64) {
        guard let rules = rollouts.first(where: { $0.id == rollout })?.policy.groups else { return }
        let key = rules.groupKey(for: labels[host]!) ?? "host:\(host)"
        let members = labels.keys.filter { (rules.groupKey(for: labels[$0]!) ?? "host:\($0)") == key }
        let down = members.filter { member in
            member != host
                && (health[member]?.healthy == false
                    || assignments.contains { $0.hostID == member && ($0.state.isInFlight || ($0.state == .failed && !$0.resolved)) })
        }
        if down.count >= rules.maxUnavailable {
            violations.append("\(host) started in rollout \(rollout) with \(down.count) of group \(key) unavailable (max \(rules.maxUnavailable))")
        }
        if members.count > 1 && members.count - down.count <= 1 {
            violations.append("\(host) started in rollout \(rollout) as the last available member of \(key)")
        }
    }
}
