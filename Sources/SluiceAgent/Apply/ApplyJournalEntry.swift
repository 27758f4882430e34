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
