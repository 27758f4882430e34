/// A program to run with argv (never a shell) and a time limit.
public struct CommandSpec: Sendable, Codable, Equatable, CustomStringConvertible {
    public var argv: [String]
    public var timeoutSeconds: Int

    public init(argv: [String], timeoutSeconds: Int = 30) {
        self.argv = argv
        self.timeoutSeconds = timeoutSeconds
    }

    public var description: String { argv.map { $0.contains(" ") ? quoted($0) : $0 }.joined(separator: " ") }
}

/// One health check an agent runs for its role, before touching anything and after a restart.
public enum HealthCheck: Sendable, Codable, Equatable, CustomStringConvertible {
    /// `systemctl is-active UNIT` answers `active`.
    case systemdUnit(name: String)
    /// The command exits 0 within its timeout.
    case command(CommandSpec)
    /// A TCP connection to host:port succeeds within the timeout.
    case tcp(host: String, port: Int, timeoutSeconds: Int)
    /// An HTTP GET answers the expected status within the timeout.
    case http(url: String, expectStatus: Int, timeoutSeconds: Int)
    /// A DNS query (UDP, built in) for `name` to `server:port` gets an answer with RCODE
    /// NOERROR (or NXDOMAIN when `allowNXDomain`) within the timeout.
    case dns(server: String, port: Int, name: String, allowNXDomain: Bool, timeoutSeconds: Int)

    public var description: String {
        switch self {
        case .systemdUnit(let name): "unit \(name) active"
        case .command(let spec): "command \(spec)"
        case .tcp(let host, let port, _): "tcp \(host):\(port)"
        case .http(let url, let status, _): "http \(url) -> \(status)"
        case .dns(let server, let port, let name, _, _): "dns \(name) @\(server):\(port)"
        }
    }
}

/// Everything an agent needs to apply one assignment: the exact package set and, from the
/// policy on the controller, the role's checks and hooks. Agents never take commands
/// from anywhere else.
public struct ApplyInstructions: Sendable, Codable, Equatable {
    /// Exact `name=version` pairs; nothing else is installed except their new dependencies.
    public var packages: [PackagePin]
    /// Run after install, before any restart, with the new binaries (`named-checkconf`).
    public var validations: [CommandSpec]
    /// Run before anything is touched, and after the restart until they pass or the deadline passes.
    public var healthChecks: [HealthCheck]
    /// Run once before the apply (drain) and once after it, whatever the outcome (undrain).
    public var preHooks: [CommandSpec]
    public var postHooks: [CommandSpec]
    /// Whether apt may remove packages to satisfy the set; refused otherwise.
    public var allowRemovals: Bool
    /// How long health checks may take to pass after the restart.
    public var healthDeadlineSeconds: Int
    /// Pause between health check attempts.
    public var healthRetryIntervalSeconds: Int
    /// Set on a revert: the assignment whose saved packages hold the versions to reinstall
    /// (`packages` then names versions older than the installed ones). Apt's sources are the
    /// fallback for a version not saved; a version in neither refuses the revert at preflight.
    public var revertsAssignment: Int64?
    /// The assignments whose saved packages this host keeps; the others are removed when this
    /// apply begins. Absent: nothing is removed.
    public var keepSavedFrom: [Int64]?

    public init(
        packages: [PackagePin], validations: [CommandSpec] = [], healthChecks: [HealthCheck] = [], preHooks: [CommandSpec] = [],
        postHooks: [CommandSpec] = [], allowRemovals: Bool = false, healthDeadlineSeconds: Int = 120,
        healthRetryIntervalSeconds: Int = 5, revertsAssignment: Int64? = nil, keepSavedFrom: [Int64]? = nil
    ) {
        self.packages = packages
        self.validations = validations
        self.healthChecks = healthChecks
        self.preHooks = preHooks
        self.postHooks = postHooks
        self.allowRemovals = allowRemovals
        self.healthDeadlineSeconds = healthDeadlineSeconds
        self.healthRetryIntervalSeconds = healthRetryIntervalSeconds
        self.revertsAssignment = revertsAssignment
        self.keepSavedFrom = keepSavedFrom
    }
}

/// How an apply ended on the host.
public enum ApplyOutcome: String, Sendable, Codable, CaseIterable {
    /// New versions installed, restarted, healthy.
    case succeeded
    /// Refused before anything changed (versions missing, simulation failed, no disk, removals, dpkg interrupted).
    case preflightFailed = "preflight-failed"
    /// The role's health checks failed before anything was touched: the host was already sick.
    case unhealthyBeforeApply = "unhealthy-before-apply"
    /// Validation with the new binaries failed (or the install itself failed); old versions
    /// reinstalled under the restart hold; the service never restarted.
    case rolledBackBeforeRestart = "rolled-back-before-restart"
    /// Health failed after the restart; old versions reinstalled, restarted and healthy again.
    case rolledBackAfterRestart = "rolled-back-after-restart"
    /// The install or the rollback itself failed, or the host is unhealthy even after rollback: page someone.
    case failed

    /// Whether the host ended with the new versions.
    public var isSuccess: Bool { self == .succeeded }
    /// Whether the host is left as healthy as it was (nothing to resolve by hand).
    public var leftHostHealthy: Bool { self != .failed }
}

/// One step of an apply, reported to the controller as it happens.
public enum ApplyStep: String, Sendable, Codable, CaseIterable {
    case started, preflighted, saved, held, installed, validated, restarted, healthy, rolledBack = "rolled-back", finished
}

/// What an agent reports at each step.
public struct ApplyStepReport: Sendable, Codable, Equatable {
    public var step: ApplyStep
    /// One line for people.
    public var detail: String
    /// Output of the command or check that decided this step, bounded.
    public var output: String?
    /// `name` to version before and after, for the packages this step changed.
    public var versionsBefore: [String: String]
    public var versionsAfter: [String: String]
    /// Set on the `finished` step only.
    public var outcome: ApplyOutcome?
    /// On the `finished` step: whether the host asks for a reboot (`/run/reboot-required`)
    /// after the apply; `nil` when unknown. Reboots are coordinated elsewhere.
    public var rebootRequired: Bool?

    public init(
        step: ApplyStep, detail: String, output: String? = nil, versionsBefore: [String: String] = [:],
        versionsAfter: [String: String] = [:], outcome: ApplyOutcome? = nil, rebootRequired: Bool? = nil
    ) {
        self.step = step
        self.detail = detail
        self.output = output
        self.versionsBefore = versionsBefore
        self.versionsAfter = versionsAfter
        self.outcome = outcome
        self.rebootRequired = rebootRequired
    }
}
