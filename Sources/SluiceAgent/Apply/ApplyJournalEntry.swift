import SluiceCore

/// One line of the apply journal: a step the agent is about to take, written (and fsync'ed)
/// before the step runs, with what recovery needs to finish or undo it.
public struct ApplyJournalEntry: Sendable, Codable, Equatable {
    /// The step about to run.
    public enum Phase: String, Sendable, Codable, CaseIterable {
        /// Preflight starts; nothing has changed. Carries the instructions.
        case started
        /// The pre hooks are about to run; from here the post hooks must run too.
        case preHooks = "pre-hooks"
        /// Rollback .debs are about to be saved. Carries the versions installed before.
        case saving
        /// The restart hold is about to be installed. Carries the saved .debs.
        case holding
        /// apt is about to install the new versions.
        case installing
        /// The validation commands are about to run with the new binaries.
        case validating
        /// The restart hold is about to be released (new versions validated).
        case releasing
        /// Services are about to restart with the new versions. Carries their names.
        case restarting
        /// The health checks are about to run after the restart.
        case checking
        /// The saved versions are about to be reinstalled. Carries the reason and whether services had restarted.
        case rollingBack = "rolling-back"
        /// The post hooks are about to run. Carries the outcome so far.
        case postHooks = "post-hooks"
        /// The apply ended. Carries the outcome.
        case finished
    }

    /// The assignment the apply belongs to.
    public var assignmentID: String
    /// The step about to run.
    public var phase: Phase
    /// When the entry was written, milliseconds since the Unix epoch.
    public var atMs: Int64
    /// On `started`: the instructions, so recovery runs the same checks and hooks.
    public var instructions: ApplyInstructions?
    /// On `started`: the kernel's boot id, so recovery knows whether the host rebooted since
    /// (then services restarted at boot, whatever the hold said).
    public var bootID: String?
    /// On `saving`: name to version of every package the apply changes, before it.
    public var versionsBefore: [String: String]?
    /// On `holding`: the saved rollback .debs.
    public var saved: [SavedPackage]?
    /// On `restarting`: the services about to restart.
    public var services: [String]?
    /// On `rolling-back`: whether services had already restarted with the new versions.
    public var afterRestart: Bool?
    /// Why (rolling back), or the detail of the outcome (post hooks, finished).
    public var detail: String?
    /// On `post-hooks` and `finished`: the outcome.
    public var outcome: ApplyOutcome?

    /// - Parameters:
    ///   - assignmentID: the assignment.
    ///   - phase: the step about to run.
    ///   - atMs: the wall-clock time.
    public init(assignmentID: String, phase: Phase, atMs: Int64) {
        self.assignmentID = assignmentID
        self.phase = phase
        self.atMs = atMs
    }
}

/// A rollback .deb saved before the install: the installed version of one package.
public struct SavedPackage: Sendable, Codable, Equatable {
    /// The package name.
    public var name: String
    /// The version the .deb holds (the one installed before the apply).
    public var version: String
    /// The .deb's path inside the root.
    public var path: String
    /// Where it came from: `apt cache`, `apt-get download` or `dpkg-repack`.
    public var source: String

    /// - Parameters:
    ///   - name: the package name.
    ///   - version: the version the .deb holds.
    ///   - path: the .deb's path inside the root.
    ///   - source: where it came from.
    public init(name: String, version: String, path: String, source: String) {
        self.name = name
        self.version = version
        self.path = path
        self.source = source
    }
}

/// What the entries of one apply add up to, for recovery.
struct JournalSummary: Sendable {
    var assignmentID: String
    var last: ApplyJournalEntry.Phase
    var instructions: ApplyInstructions?
    var versionsBefore: [String: String] = [:]
    var saved: [SavedPackage] = []
    var services: [String] = []
    var afterRestart = false
    var preHooksStarted = false
    var rollbackStarted = false
    var bootID: String?
    var outcome: ApplyOutcome?
    var detail: String?

    init?(_ entries: [ApplyJournalEntry]) {
        guard let first = entries.first, let last = entries.last else { return nil }
        assignmentID = first.assignmentID
        self.last = last.phase
        for entry in entries {
            if let value = entry.instructions { instructions = value }
            if let value = entry.bootID { bootID = value }
            if entry.phase == .rollingBack { rollbackStarted = true }
            if let value = entry.versionsBefore { versionsBefore = value }
            if let value = entry.saved { saved = value }
            if let value = entry.services { services = value }
            if entry.phase == .restarting { afterRestart = true }
            if let value = entry.afterRestart { afterRestart = afterRestart || value }
            if entry.phase == .preHooks { preHooksStarted = true }
            if let value = entry.outcome { outcome = value }
            if let value = entry.detail { detail = value }
        }
    }
}
