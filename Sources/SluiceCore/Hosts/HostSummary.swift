/// One host as the fleet view shows it: identity, labels, freshness and what is pending.
public struct HostSummary: Sendable, Codable, Equatable {
    public var id: HostID
    public var labels: Labels
    public var enrolledAtMs: Int64
    public var lastSeenAtMs: Int64?
    public var agentVersion: String?
    public var os: OSRelease?
    public var pendingUpdates: Int
    public var pendingSecurityUpdates: Int
    public var rebootRequired: Bool
    public var unattendedUpgrades: UnattendedUpgradesStatus?
    /// Conditions an operator should act on, one short sentence each.
    public var warnings: [String]
    /// Labels the agent asked for that wait for an operator's approval; `labels` stay in use until then.
    public var pendingLabels: Labels?

    public init(
        id: HostID, labels: Labels, enrolledAtMs: Int64, lastSeenAtMs: Int64?, agentVersion: String?, os: OSRelease?,
        pendingUpdates: Int, pendingSecurityUpdates: Int, rebootRequired: Bool,
        unattendedUpgrades: UnattendedUpgradesStatus?, warnings: [String] = [], pendingLabels: Labels? = nil
    ) {
        self.id = id
        self.labels = labels
        self.enrolledAtMs = enrolledAtMs
        self.lastSeenAtMs = lastSeenAtMs
        self.agentVersion = agentVersion
        self.os = os
        self.pendingUpdates = pendingUpdates
        self.pendingSecurityUpdates = pendingSecurityUpdates
        self.rebootRequired = rebootRequired
        self.unattendedUpgrades = unattendedUpgrades
        self.warnings = warnings
        self.pendingLabels = pendingLabels
    }

    /// The warnings for this host at `nowMs`: silence, unattended-upgrades still armed,
    /// a pending reboot, and missing labels that redundancy groups are made of.
    public static func warnings(
        lastSeenAtMs: Int64?, nowMs: Int64, staleAfterMs: Int64, labels: Labels,
        unattendedUpgrades: UnattendedUpgradesStatus?, rebootRequired: Bool
    ) -> [String] {
        var out: [String] = []
        if let seen = lastSeenAtMs {
            let silent = nowMs - seen
            if silent > staleAfterMs { out.append("stale: no report for \(formatDuration(ms: silent))") }
        } else {
            out.append("never reported")
        }
        if unattendedUpgrades?.enabled == true {
            out.append("unattended-upgrades is still enabled and may upgrade this host on its own")
        }
        if rebootRequired { out.append("reboot required") }
        for key in ["role", "region"] where labels[key] == nil {
            out.append("no \(key) label: not in any redundancy group")
        }
        return out
    }
}

/// A host with everything its agent last reported.
public struct HostDetail: Sendable, Codable, Equatable {
    public var summary: HostSummary
    public var installed: [InstalledPackage]
    public var candidates: [UpgradeCandidate]
    public var rebootRequiredPackages: [String]

    public init(summary: HostSummary, installed: [InstalledPackage], candidates: [UpgradeCandidate], rebootRequiredPackages: [String]) {
        self.summary = summary
        self.installed = installed
        self.candidates = candidates
        self.rebootRequiredPackages = rebootRequiredPackages
    }
}

/// One candidate version pending somewhere in the fleet.
public struct PendingUpdate: Sendable, Codable, Equatable {
    public var name: PackageName
    public var version: DebianVersion
    /// Distinct `label/archive` pairs the version comes from, sorted.
    public var origins: [String]
    public var isSecurity: Bool
    public var hosts: Int

    public init(name: PackageName, version: DebianVersion, origins: [String], isSecurity: Bool, hosts: Int) {
        self.name = name
        self.version = version
        self.origins = origins
        self.isSecurity = isSecurity
        self.hosts = hosts
    }
}

/// `90s`, `12m`, `3h5m`, `2d4h`: for people, not for parsing.
public func formatDuration(ms: Int64) -> String {
    let seconds = max(0, ms / 1000)
    if seconds < 120 { return "\(seconds)s" }
    let minutes = seconds / 60
    if minutes < 120 { return "\(minutes)m" }
    let hours = minutes / 60
    if hours < 48 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
    return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h"
}
