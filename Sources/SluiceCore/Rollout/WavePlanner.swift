/// A host as the planner sees it.
public struct FleetHost: Sendable, Equatable {
    public var id: HostID
    public var labels: Labels
    public var lastSeenAtMs: Int64?
    public var codename: String?
    public var installed: [InstalledPackage]
    public var candidates: [UpgradeCandidate]

    public init(
        id: HostID, labels: Labels, lastSeenAtMs: Int64?, codename: String?, installed: [InstalledPackage], candidates: [UpgradeCandidate]
    ) {
        self.id = id
        self.labels = labels
        self.lastSeenAtMs = lastSeenAtMs
        self.codename = codename
        self.installed = installed
        self.candidates = candidates
    }
}

/// One host's place in a plan.
public struct PlannedHost: Sendable, Codable, Equatable {
    public var hostID: HostID
    /// `nil` when the host lacks a group label; it is then a group of its own.
    public var groupKey: String?
    /// The pins of the package set this host takes: exactly its candidates for them.
    public var packages: [PackagePin]

    /// The key used for `max_unavailable`: the group, or the host alone.
    public var capacityKey: String { groupKey ?? "host:\(hostID)" }
}

public struct PlannedWave: Sendable, Codable, Equatable {
    public var name: String
    /// Started in order, each after the previous one all succeeded.
    public var batches: [[PlannedHost]]
    public var hosts: [PlannedHost] { batches.flatMap { $0 } }
}

/// A rollout's plan: the frozen package set, every wave's batches, and what an operator should know.
public struct RolloutPlan: Sendable, Codable, Equatable {
    public var policy: String
    public var packages: [PackagePin]
    public var waves: [PlannedWave]
    public var warnings: [String]
    /// What apt on each host said it would do with the set; `nil` when nobody was asked.
    public var simulation: PlanSimulation?
    /// Pins the policy's `dependencies: include...` added to the set (also in `packages`).
    public var included: [PackagePin]
    /// Why this plan cannot be created (the `dependencies` rule, or apt refusing the set); `nil` when it can.
    public var refusal: String?

    public init(
        policy: String, packages: [PackagePin], waves: [PlannedWave], warnings: [String], simulation: PlanSimulation? = nil,
        included: [PackagePin] = [], refusal: String? = nil
    ) {
        self.policy = policy
        self.packages = packages
        self.waves = waves
        self.warnings = warnings
        self.simulation = simulation
        self.included = included
        self.refusal = refusal
    }

    /// Each host's pins, as the plan gives them.
    public var pinsByHost: [HostID: [PackagePin]] {
        Dictionary(waves.flatMap(\.hosts).map { ($0.hostID, $0.packages) }, uniquingKeysWith: { a, _ in a })
    }

    /// Adds `extra` to the set, and to the pins of each host whose simulation would upgrade it.
    public mutating func include(_ extra: [PackagePin], simulation: PlanSimulation) {
        let wanted = Set(extra)
        var byHost: [HostID: [PackagePin]] = [:]
        for group in simulation.groups {
            let pins = group.outside.map(\.pin).filter(wanted.contains)
            for host in group.hosts { byHost[host, default: []] += pins }
        }
        for w in waves.indices {
            for b in waves[w].batches.indices {
                for h in waves[w].batches[b].indices {
                    let host = waves[w].batches[b][h]
                    guard let more = byHost[host.hostID], !more.isEmpty else { continue }
                    waves[w].batches[b][h].packages = Array(Set(host.packages + more)).sorted { $0.name < $1.name }
                }
            }
        }
        packages = Array(Set(packages + extra)).sorted { ($0.name.description, $0.version.description) < ($1.name.description, $1.version.description) }
        included = extra
    }
}

/// Freezes package sets and plans waves. Pure: the same inputs always give the same plan.
public enum WavePlanner {
    /// Every candidate on the fleet the policy qualifies, as exact pins (several versions of
    /// one package may appear when hosts run different releases).
    public static func qualifyingPackages(policy: Policy, hosts: [FleetHost]) -> [PackagePin] {
        var pins = Set<PackagePin>()
        for host in hosts {
            for candidate in host.candidates where policy.qualify.admits(candidate, codename: host.codename) {
                pins.insert(PackagePin(name: candidate.name, version: candidate.candidateVersion))
            }
        }
        return pins.sorted { ($0.name.description, $0.version.description) < ($1.name.description, $1.version.description) }
    }

    /// Plans `packages` through `policy`'s waves.
    /// - Parameters:
    ///   - staleAfterMs: hosts silent longer than this at `nowMs` are warned about.
    public static func plan(policy: Policy, packages: [PackagePin], hosts: [FleetHost], nowMs: Int64, staleAfterMs: Int64) -> RolloutPlan {
        var warnings: [String] = []
        var participants: [PlannedHost] = []
        var labelsByHost: [HostID: Labels] = [:]
        let byName = Dictionary(grouping: packages, by: \.name)
        for host in hosts.sorted(by: { $0.id < $1.id }) {
            var pins: [PackagePin] = []
            var lacking: [String] = []
            let installedNames = Set(host.installed.map(\.name))
            for (name, versions) in byName where installedNames.contains(name) {
                let candidate = host.candidates.first { $0.name == name }?.candidateVersion
                if let candidate, let pin = versions.first(where: { $0.version == candidate }) {
                    pins.append(pin)
                } else if !host.installed.contains(where: { $0.name == name && versions.map(\.version).contains($0.version) }) {
                    lacking.append("\(name)=\(versions.map(\.version.description).joined(separator: "|")) (candidate \(candidate?.description ?? "none"))")
                }
            }
            if !lacking.isEmpty {
                warnings.append("host \(host.id) lacks \(lacking.sorted().joined(separator: ", ")); left out")
                continue
            }
            guard !pins.isEmpty else { continue }
            let group = policy.groups.groupKey(for: host.labels)
            if group == nil {
                warnings.append("host \(host.id) is in no redundancy group (missing \(policy.groups.labels.filter { host.labels[$0] == nil }.joined(separator: ", ")))")
            }
            if let seen = host.lastSeenAtMs {
                if nowMs - seen > staleAfterMs { warnings.append("host \(host.id) is stale: no report for \(formatDuration(ms: nowMs - seen))") }
            } else {
                warnings.append("host \(host.id) has never reported")
            }
            participants.append(PlannedHost(hostID: host.id, groupKey: group, packages: pins.sorted { $0.name < $1.name }))
            labelsByHost[host.id] = host.labels
        }
        let sizes = Dictionary(grouping: participants.filter { $0.groupKey != nil }, by: { $0.groupKey! }).mapValues(\.count)
        for (group, size) in sizes.sorted(by: { $0.key < $1.key }) where size == 1 {
            warnings.append("group \(group) has one member: updating it leaves the group with no spare")
        }

        var unclaimed = participants
        var waves: [PlannedWave] = []
        for spec in policy.waves {
            let selected = unclaimed.filter { spec.selects(labelsByHost[$0.hostID]!) }
            let chosen: [PlannedHost]
            var batches: [[PlannedHost]]
            switch spec.strategy {
            case .all:
                chosen = selected
                batches = chosen.isEmpty ? [] : [chosen]
            case .onePerGroup:
                var seen = Set<String>()
                chosen = selected.filter { seen.insert($0.capacityKey).inserted }
                // One canary at a time: a failure on the first stops every other group.
                batches = chosen.map { [$0] }
            case .batches(let size):
                chosen = selected
                let n = size.hosts(of: chosen.count)
                batches = stride(from: 0, to: chosen.count, by: n).map { Array(chosen[$0..<min($0 + n, chosen.count)]) }
            }
            let taken = Set(chosen.map(\.hostID))
            unclaimed.removeAll { taken.contains($0.hostID) }
            waves.append(PlannedWave(name: spec.name, batches: batches))
        }
        for host in unclaimed {
            warnings.append("host \(host.hostID) is selected by no wave; it will not be updated")
        }
        return RolloutPlan(policy: policy.name, packages: packages, waves: waves, warnings: warnings)
    }
}
