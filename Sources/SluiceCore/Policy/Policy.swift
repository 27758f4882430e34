import Foundation

/// A rollout policy: which updates qualify, how hosts form redundancy groups, the waves
/// an update moves through, and the checks each role runs.
public struct Policy: Sendable, Codable, Equatable {
    public var name: String
    public var qualify: QualifyRules
    public var groups: GroupRules
    public var waves: [WaveSpec]
    /// Checks and hooks by the value of the host's `role` label.
    public var roles: [String: RoleChecks]
    /// When set, the controller creates rollouts by itself.
    public var schedule: Schedule?
    /// What to do with upgrades the set pulls in but does not name, as the plan's simulation shows them.
    public var dependencies: DependencyRule
    /// What happens to hosts that pass their apply and then fail health (policy key `on_failure`).
    public var onFailure: FailureAction

    public init(
        name: String, qualify: QualifyRules = QualifyRules(), groups: GroupRules = GroupRules(), waves: [WaveSpec],
        roles: [String: RoleChecks] = [:], schedule: Schedule? = nil, dependencies: DependencyRule = .refuse,
        onFailure: FailureAction = .halt
    ) {
        self.name = name
        self.qualify = qualify
        self.groups = groups
        self.waves = waves
        self.roles = roles
        self.schedule = schedule
        self.dependencies = dependencies
        self.onFailure = onFailure
    }

    private enum CodingKeys: String, CodingKey {
        case name, qualify, groups, waves, roles, schedule, dependencies, onFailure
    }

    /// Rollouts keep the policy they were created with: one stored before the rule existed refuses.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), qualify: try c.decode(QualifyRules.self, forKey: .qualify),
            groups: try c.decode(GroupRules.self, forKey: .groups), waves: try c.decode([WaveSpec].self, forKey: .waves),
            roles: try c.decode([String: RoleChecks].self, forKey: .roles), schedule: try c.decodeIfPresent(Schedule.self, forKey: .schedule),
            dependencies: try c.decodeIfPresent(DependencyRule.self, forKey: .dependencies) ?? .refuse,
            onFailure: try c.decodeIfPresent(FailureAction.self, forKey: .onFailure) ?? .halt)
    }

    /// The checks for a host with these labels (its `role`), or none.
    public func checks(for labels: Labels) -> RoleChecks {
        labels["role"].flatMap { roles[$0] } ?? RoleChecks()
    }
}

/// Which candidates a policy's rollouts take, in the spirit of unattended-upgrades'
/// `Origins-Pattern` and `Package-Blacklist`.
public struct QualifyRules: Sendable, Codable, Equatable {
    /// A candidate qualifies when any of its origins matches any pattern. Empty: security archives only.
    public var origins: [OriginPattern]
    /// Package name globs; empty means every package.
    public var include: [String]
    /// Package name globs never taken, even if included.
    public var exclude: [String]

    public init(origins: [OriginPattern] = [], include: [String] = [], exclude: [String] = []) {
        self.origins = origins
        self.include = include
        self.exclude = exclude
    }

    /// Whether `candidate` on a host running `codename` qualifies.
    public func admits(_ candidate: UpgradeCandidate, codename: String?) -> Bool {
        let name = candidate.name.description
        if !include.isEmpty && !include.contains(where: { Glob.matches($0, name) }) { return false }
        if exclude.contains(where: { Glob.matches($0, name) }) { return false }
        return admitsOrigin(of: candidate, codename: codename)
    }

    /// Whether `candidate` comes from an origin these rules take, whatever its name.
    public func admitsOrigin(of candidate: UpgradeCandidate, codename: String?) -> Bool {
        if origins.isEmpty { return candidate.isSecurity }
        return candidate.origins.contains { origin in origins.contains { $0.matches(origin, codename: codename) } }
    }
}

/// One origin pattern: every field given must match (globs, `${distro_codename}` expanded).
public struct OriginPattern: Sendable, Codable, Equatable {
    public var origin: String?
    public var label: String?
    public var archive: String?
    public var codename: String?
    public var component: String?

    public init(origin: String? = nil, label: String? = nil, archive: String? = nil, codename: String? = nil, component: String? = nil) {
        self.origin = origin
        self.label = label
        self.archive = archive
        self.codename = codename
        self.component = component
    }

    public func matches(_ o: PackageOrigin, codename distro: String?) -> Bool {
        func field(_ pattern: String?, _ value: String?) -> Bool {
            guard let pattern else { return true }
            guard let value else { return false }
            let expanded = pattern.replacingOccurrences(of: "${distro_codename}", with: distro ?? "")
            return Glob.matches(expanded, value)
        }
        return field(origin, o.origin) && field(label, o.label) && field(archive, o.archive) && field(codename, o.codename)
            && field(component, o.component)
    }
}

/// How hosts back each other up.
public struct GroupRules: Sendable, Codable, Hashable {
    /// The labels whose values together name a redundancy group.
    public var labels: [String]
    /// At most this many members of one group in flight or failed-unresolved at once, across all rollouts.
    public var maxUnavailable: Int

    public init(labels: [String] = ["role", "region"], maxUnavailable: Int = 1) {
        self.labels = labels
        self.maxUnavailable = maxUnavailable
    }

    /// `dns-resolver@osc-fr1` for `[role, region]`; `nil` when a label is missing.
    public func groupKey(for labels: Labels) -> String? {
        var values: [String] = []
        for key in self.labels {
            guard let value = labels[key] else { return nil }
            values.append(value)
        }
        return values.joined(separator: "@")
    }
}

/// The checks a role's hosts run around an apply.
public struct RoleChecks: Sendable, Codable, Equatable {
    public var validations: [CommandSpec]
    public var healthChecks: [HealthCheck]
    public var preHooks: [CommandSpec]
    public var postHooks: [CommandSpec]
    public var healthDeadlineSeconds: Int

    public init(
        validations: [CommandSpec] = [], healthChecks: [HealthCheck] = [], preHooks: [CommandSpec] = [], postHooks: [CommandSpec] = [],
        healthDeadlineSeconds: Int = 120
    ) {
        self.validations = validations
        self.healthChecks = healthChecks
        self.preHooks = preHooks
        self.postHooks = postHooks
        self.healthDeadlineSeconds = healthDeadlineSeconds
    }
}

/// When the controller starts rollouts by itself.
public enum Schedule: Sendable, Codable, Equatable {
    /// Every day at `minuteOfDay` (0...1439) in `timeZone`.
    case daily(minuteOfDay: Int, timeZone: String)
    /// As soon as new qualifying candidates are seen, after they stayed unchanged for `debounceSeconds`.
    case onNewCandidates(debounceSeconds: Int64)
}
