/// What an agent reports about its host: the full picture every time, so the controller
/// never depends on having seen an earlier report (reconcile, don't trust single events).
public struct InventoryReport: Sendable, Codable, Equatable {
    /// Installed packages, and candidates, one report may list: four times a full desktop
    /// install (about 5,000); a real host never reaches it, and it bounds what one report
    /// costs the controller (see docs/SECURITY.md).
    public static let maxPackages = 20_000
    public static let maxRebootPackages = 1_000

    public var agentVersion: String
    public var os: OSRelease
    public var installed: [InstalledPackage]
    public var candidates: [UpgradeCandidate]
    public var rebootRequired: Bool
    public var rebootRequiredPackages: [String]
    public var unattendedUpgrades: UnattendedUpgradesStatus
    /// The labels the agent is configured with; absent when it has none. The controller never
    /// applies them by itself: labels different from the host's approved ones become a
    /// request an operator must approve (see `LabelChange`).
    public var labels: Labels?

    public init(
        agentVersion: String, os: OSRelease, installed: [InstalledPackage], candidates: [UpgradeCandidate],
        rebootRequired: Bool, rebootRequiredPackages: [String], unattendedUpgrades: UnattendedUpgradesStatus, labels: Labels? = nil
    ) {
        self.agentVersion = agentVersion
        self.os = os
        self.installed = installed
        self.candidates = candidates
        self.rebootRequired = rebootRequired
        self.rebootRequiredPackages = rebootRequiredPackages
        self.unattendedUpgrades = unattendedUpgrades
        self.labels = labels
    }

    /// Checks the limits and uniqueness rules that typed decoding alone cannot express.
    /// Package names and versions were already checked when they were decoded.
    public func validate() throws(InvalidInput) {
        try checkText(agentVersion, field: "agentVersion", max: 64)
        try os.validate()
        guard installed.count <= Self.maxPackages else {
            throw InvalidInput("installed: \(installed.count) packages is more than the limit of \(Self.maxPackages)")
        }
        guard candidates.count <= Self.maxPackages else {
            throw InvalidInput("candidates: \(candidates.count) packages is more than the limit of \(Self.maxPackages)")
        }
        var seen = Set<PackageKey>()
        for (index, package) in installed.enumerated() {
            try checkText(package.status, field: "installed[\(index)].status", max: 64)
            guard seen.insert(package.key).inserted else {
                throw InvalidInput("installed[\(index)]: \(package.key) is listed twice")
            }
        }
        seen.removeAll()
        for (index, candidate) in candidates.enumerated() {
            guard seen.insert(candidate.key).inserted else {
                throw InvalidInput("candidates[\(index)]: \(candidate.key) is listed twice")
            }
            guard candidate.origins.count <= PackageOrigin.maxPerCandidate else {
                throw InvalidInput("candidates[\(index)].origins: more than \(PackageOrigin.maxPerCandidate) origins")
            }
            for (o, origin) in candidate.origins.enumerated() {
                try origin.validate(field: "candidates[\(index)].origins[\(o)]")
            }
        }
        guard rebootRequiredPackages.count <= Self.maxRebootPackages else {
            throw InvalidInput("rebootRequiredPackages: more than \(Self.maxRebootPackages) entries")
        }
        for (index, name) in rebootRequiredPackages.enumerated() {
            try checkText(name, field: "rebootRequiredPackages[\(index)]", max: 128)
        }
        try checkText(unattendedUpgrades.detail, field: "unattendedUpgrades.detail", max: 512, allowEmpty: true)
    }
}

/// Identifies one installed package instance: Debian allows one per architecture.
public struct PackageKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let name: PackageName
    public let architecture: Architecture
    public init(name: PackageName, architecture: Architecture) {
        self.name = name
        self.architecture = architecture
    }
    public var description: String { "\(name):\(architecture)" }
    public static func < (a: PackageKey, b: PackageKey) -> Bool {
        (a.name.description, a.architecture.description) < (b.name.description, b.architecture.description)
    }
}

/// One line of `dpkg-query -W`: a package as dpkg knows it on the host.
public struct InstalledPackage: Sendable, Codable, Equatable {
    public var name: PackageName
    public var architecture: Architecture
    public var version: DebianVersion
    /// dpkg's status triple, for example `install ok installed` or `install ok half-configured`.
    public var status: String

    public init(name: PackageName, architecture: Architecture, version: DebianVersion, status: String) {
        self.name = name
        self.architecture = architecture
        self.version = version
        self.status = status
    }

    public var key: PackageKey { PackageKey(name: name, architecture: architecture) }
}

/// A package apt would upgrade (or newly install as a dependency), with the version it
/// would take and every archive that version is published in.
public struct UpgradeCandidate: Sendable, Codable, Equatable {
    public var name: PackageName
    public var architecture: Architecture
    /// `nil` when the package is not installed yet (a new dependency).
    public var installedVersion: DebianVersion?
    public var candidateVersion: DebianVersion
    public var origins: [PackageOrigin]

    public init(
        name: PackageName, architecture: Architecture, installedVersion: DebianVersion?,
        candidateVersion: DebianVersion, origins: [PackageOrigin]
    ) {
        self.name = name
        self.architecture = architecture
        self.installedVersion = installedVersion
        self.candidateVersion = candidateVersion
        self.origins = origins
    }

    public var key: PackageKey { PackageKey(name: name, architecture: architecture) }
    /// A security update: at least one origin is a security archive.
    public var isSecurity: Bool { origins.contains(where: \.isSecurity) }
}

/// Where a candidate version comes from, in the fields apt's release files use
/// (the same fields unattended-upgrades' `Origins-Pattern` matches on).
public struct PackageOrigin: Sendable, Codable, Hashable {
    public static let maxPerCandidate = 16

    public var origin: String?
    public var label: String?
    public var archive: String?
    public var codename: String?
    public var component: String?
    public var site: String?

    public init(
        origin: String? = nil, label: String? = nil, archive: String? = nil, codename: String? = nil,
        component: String? = nil, site: String? = nil
    ) {
        self.origin = origin
        self.label = label
        self.archive = archive
        self.codename = codename
        self.component = component
        self.site = site
    }

    /// Debian marks its security archive with the label `Debian-Security`; Ubuntu
    /// publishes security updates in the `<codename>-security` pocket.
    public var isSecurity: Bool {
        label == "Debian-Security" || (archive?.hasSuffix("-security") ?? false)
            || (codename?.hasSuffix("-security") ?? false)
    }

    func validate(field: String) throws(InvalidInput) {
        for (name, value) in [
            ("origin", origin), ("label", label), ("archive", archive), ("codename", codename),
            ("component", component), ("site", site),
        ] {
            if let value { try checkText(value, field: "\(field).\(name)", max: 256) }
        }
    }
}

/// The host's `/etc/os-release`, the fields policies and operators use.
public struct OSRelease: Sendable, Codable, Equatable {
    public var id: String
    public var versionID: String?
    public var versionCodename: String?
    public var prettyName: String

    public init(id: String, versionID: String?, versionCodename: String?, prettyName: String) {
        self.id = id
        self.versionID = versionID
        self.versionCodename = versionCodename
        self.prettyName = prettyName
    }

    func validate() throws(InvalidInput) {
        try checkText(id, field: "os.id", max: 64)
        try checkText(prettyName, field: "os.prettyName", max: 256)
        if let versionID { try checkText(versionID, field: "os.versionID", max: 64) }
        if let versionCodename { try checkText(versionCodename, field: "os.versionCodename", max: 64) }
    }
}

/// Whether unattended-upgrades would still upgrade this host on its own, behind Sluice's back.
public struct UnattendedUpgradesStatus: Sendable, Codable, Equatable {
    /// `nil` when the agent could not tell.
    public var enabled: Bool?
    /// Why the agent concluded so, for the operator.
    public var detail: String

    public init(enabled: Bool?, detail: String) {
        self.enabled = enabled
        self.detail = detail
    }
}

/// Free text from a host or an operator: bounded and free of control characters (terminal
/// escapes), because it ends up in the audit log and on operators' terminals.
/// - Parameters:
///   - field: named in the error.
///   - max: the limit in UTF-8 bytes.
///   - multiline: command output may keep its newlines and tabs.
public func checkText(_ value: String, field: String, max: Int, allowEmpty: Bool = false, multiline: Bool = false) throws(InvalidInput) {
    guard allowEmpty || !value.isEmpty else { throw InvalidInput("\(field): must not be empty") }
    guard value.utf8.count <= max else {
        throw InvalidInput("\(field): \(value.utf8.count) bytes is longer than the limit of \(max)")
    }
    let allowed: Set<Unicode.Scalar> = multiline ? ["\n", "\t"] : []
    guard value.unicodeScalars.allSatisfy({ ($0.value >= 0x20 && $0.value != 0x7F) || allowed.contains($0) }) else {
        throw InvalidInput("\(field): \(quoted(value)) contains control characters")
    }
}
