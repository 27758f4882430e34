/// One availability budget per redundancy group, whatever the rollout: under a policy's group
/// labels, a group's unavailable members are those in flight or failed-unresolved in any
/// rollout of any policy, and those reporting unhealthy or silent, in a rollout or not.
public struct GroupAvailability: Sendable {
    let snapshot: ReconcileSnapshot
    let nowMs: Int64
    /// Hosts unavailable now, including those started earlier in the same pass.
    var unavailable: Set<HostID>
    /// Members by group key, per policy group rule (computed once per rule).
    private var membersByRule: [GroupRules: [String: [HostID]]] = [:]

    public init(_ snapshot: ReconcileSnapshot, nowMs: Int64) {
        self.snapshot = snapshot
        self.nowMs = nowMs
        var down = Set(snapshot.assignments.filter(\.holdsCapacity).map(\.hostID))
        for (host, health) in snapshot.hosts where Self.isDown(health, staleAfterMs: snapshot.staleAfterMs, nowMs: nowMs) { down.insert(host) }
        unavailable = down
    }

    /// Reported unhealthy, or silent past the threshold.
    public static func isDown(_ health: HostHealth, staleAfterMs: Int64, nowMs: Int64) -> Bool {
        if health.healthy == false { return true }
        guard let seen = health.lastSeenAtMs else { return false }
        return nowMs - seen > staleAfterMs
    }

    /// The group `host` belongs to under `rules`: its labels' values, or the host alone.
    public func groupKey(of host: HostID, _ rules: GroupRules) -> String {
        snapshot.labels[host].flatMap { rules.groupKey(for: $0) } ?? "host:\(host)"
    }

    /// Why `host` may not start now under `rules`, or `nil` when it may.
    public mutating func blocker(for host: HostID, _ rules: GroupRules) -> String? {
        let key = groupKey(of: host, rules)
        let members = self.members(key, rules)
        let down = members.filter { $0 != host && unavailable.contains($0) }.count
        if down >= rules.maxUnavailable {
            return "group \(key) has \(down) member(s) unavailable"
        }
        // The last available member of a group is never taken, whatever max_unavailable allows.
        if members.count > 1 && members.count - down <= 1 {
            return "group \(key) would lose its last available member"
        }
        return nil
    }

    /// `host` is starting: it counts as unavailable for the rest of the pass.
    public mutating func take(_ host: HostID) { unavailable.insert(host) }

    mutating func members(_ key: String, _ rules: GroupRules) -> [HostID] {
        if membersByRule[rules] == nil {
            var groups: [String: [HostID]] = [:]
            for host in snapshot.labels.keys { groups[groupKey(of: host, rules), default: []].append(host) }
            membersByRule[rules] = groups
        }
        return membersByRule[rules]?[key] ?? []
    }
}
