/// What a policy does with upgrades the package set pulls in but does not name (policy key
/// `dependencies`).
public enum DependencyRule: String, Sendable, Codable, CaseIterable {
    /// Creating the rollout fails, naming the packages and the hosts.
    case refuse
    /// The frozen set grows to the closure; shown in the plan and audited.
    case include
    /// As `include`, for upgrades whose candidate comes from an origin the policy qualifies;
    /// any other upgrade refuses the rollout.
    case includeFromQualifiedOrigins = "include-from-qualified-origins"
}

/// The controller asks an agent, through its assignment poll, what apt would do with the
/// pins this host would take (`apt-get -s install`). Nothing on the host changes.
public struct SimulationRequest: Sendable, Codable, Equatable {
    /// Names the request in the answer's path.
    public var id: String
    public var packages: [PackagePin]

    public init(id: String, packages: [PackagePin]) {
        self.id = id
        self.packages = packages
    }
}

/// One package apt would install or upgrade.
public struct PackageChange: Sendable, Codable, Hashable {
    public var name: PackageName
    /// The version installed now; `nil` for a new package.
    public var from: DebianVersion?
    public var to: DebianVersion

    public init(name: PackageName, from: DebianVersion?, to: DebianVersion) {
        self.name = name
        self.from = from
        self.to = to
    }

    public var pin: PackagePin { PackagePin(name: name, version: to) }
}

/// One package apt would remove.
public struct PackageRemoval: Sendable, Codable, Hashable {
    public var name: PackageName
    public var version: DebianVersion?

    public init(name: PackageName, version: DebianVersion?) {
        self.name = name
        self.version = version
    }
}

/// `POST /v1/hosts/{hostID}/simulations/{simulationID}`: the agent's answer.
public struct SimulationReport: Sendable, Codable, Equatable {
    /// Upgrades and new installs, in apt's order.
    public var installs: [PackageChange]
    public var removals: [PackageRemoval]
    /// Set when apt refused the set (unmet dependencies, a missing version): one line.
    public var error: String?

    public init(installs: [PackageChange] = [], removals: [PackageRemoval] = [], error: String? = nil) {
        self.installs = installs
        self.removals = removals
        self.error = error
    }

    public static let maxPackages = 5000
}

/// Hosts whose simulations said the same thing.
public struct SimulatedGroup: Sendable, Codable, Equatable {
    public var hosts: [HostID]
    /// What apt would install or upgrade, the set's own pins included.
    public var installs: [PackageChange]
    public var removals: [PackageRemoval]
    /// Upgrades of installed packages the set does not name.
    public var outside: [PackageChange]
    public var error: String?

    public init(hosts: [HostID], installs: [PackageChange], removals: [PackageRemoval], outside: [PackageChange], error: String?) {
        self.hosts = hosts
        self.installs = installs
        self.removals = removals
        self.outside = outside
        self.error = error
    }
}

/// A host that was asked and did not answer in time, or could not be asked.
public struct UnansweredHost: Sendable, Codable, Equatable {
    public var hostID: HostID
    public var reason: String

    public init(hostID: HostID, reason: String) {
        self.hostID = hostID
        self.reason = reason
    }
}

/// What the plan's hosts said apt would do: identical answers grouped.
public struct PlanSimulation: Sendable, Codable, Equatable {
    public var groups: [SimulatedGroup]
    public var unknown: [UnansweredHost]

    public init(groups: [SimulatedGroup], unknown: [UnansweredHost]) {
        self.groups = groups
        self.unknown = unknown
    }

    /// Groups the answers; `pins` is what each host was asked to take.
    public static func group(answers: [HostID: SimulationReport], pins: [HostID: [PackagePin]], unknown: [UnansweredHost]) -> PlanSimulation {
        struct Key: Hashable {
            var installs: [PackageChange]
            var removals: [PackageRemoval]
            var error: String?
        }
        var byKey: [Key: [HostID]] = [:]
        var order: [Key] = []
        for host in answers.keys.sorted() {
            let report = answers[host]!
            let key = Key(installs: report.installs, removals: report.removals, error: report.error)
            if byKey[key] == nil { order.append(key) }
            byKey[key, default: []].append(host)
        }
        let groups = order.map { key in
            let hosts = byKey[key]!
            let named = Set(hosts.flatMap { pins[$0] ?? [] }.map(\.name))
            return SimulatedGroup(
                hosts: hosts, installs: key.installs, removals: key.removals,
                outside: key.installs.filter { $0.from != nil && !named.contains($0.name) }, error: key.error)
        }
        return PlanSimulation(groups: groups, unknown: unknown.sorted { $0.hostID < $1.hostID })
    }
}

/// What the controller does with a simulated plan, by the policy's `dependencies` rule.
public enum DependencyClosure {
    public enum Decision: Sendable, Equatable {
        /// The plan as it is.
        case accept
        /// The set grows by these pins (plan again with them).
        case include([PackagePin])
        /// One line naming the packages and hosts.
        case refuse(String)
    }

    /// - Parameters:
    ///   - qualifies: whether an upgrade outside the set comes from an origin the policy qualifies,
    ///     on the host that would take it.
    public static func decide(
        _ simulation: PlanSimulation, rule: DependencyRule, allowRemovals: Bool = false,
        qualifies: (HostID, PackageChange) -> Bool
    ) -> Decision {
        var problems: [String] = []
        for group in simulation.groups {
            let hosts = describe(group.hosts)
            if let error = group.error {
                problems.append("apt refuses the set on \(hosts): \(error)")
                continue
            }
            if !group.removals.isEmpty && !allowRemovals {
                problems.append("the set would remove \(group.removals.map(\.name.rawValue).joined(separator: ", ")) on \(hosts)")
            }
        }
        var wanted: [PackageName: Set<DebianVersion>] = [:]
        var refused: [String: [HostID]] = [:]
        for group in simulation.groups where group.error == nil {
            for change in group.outside {
                let allowed: Bool =
                    switch rule {
                    case .refuse: false
                    case .include: true
                    case .includeFromQualifiedOrigins: group.hosts.allSatisfy { qualifies($0, change) }
                    }
                if allowed {
                    wanted[change.name, default: []].insert(change.to)
                } else {
                    refused["\(change.name) \(change.from.map { "\($0) -> " } ?? "")\(change.to)", default: []] += group.hosts
                }
            }
        }
        for (change, hosts) in refused.sorted(by: { $0.key < $1.key }) {
            let why = rule == .refuse ? "the policy refuses dependencies outside the set (dependencies: refuse)" : "not from an origin the policy qualifies"
            problems.append("the set would also upgrade \(change) on \(describe(hosts.sorted())): \(why)")
        }
        for (name, versions) in wanted.sorted(by: { $0.key < $1.key }) where versions.count > 1 {
            problems.append("hosts need different versions of \(name) (\(versions.map(\.description).sorted().joined(separator: ", "))): roll them out separately")
        }
        if !problems.isEmpty { return .refuse(problems.joined(separator: "; ")) }
        let pins = wanted.compactMap { name, versions in versions.first.map { PackagePin(name: name, version: $0) } }
        return pins.isEmpty ? .accept : .include(pins.sorted { $0.name < $1.name })
    }

    static func describe(_ hosts: [HostID]) -> String {
        let shown = hosts.prefix(5).map(\.description).joined(separator: ", ")
        return hosts.count > 5 ? "\(shown) and \(hosts.count - 5) more" : shown
    }
}
