import SluiceCore

/// Receives each step of an apply as it happens, in order, ending with the `finished` step.
public typealias ApplyReporter = @Sendable (ApplyStepReport) async -> Void

/// Receives each step of an apply finished by recovery, with the assignment it belongs to.
public typealias RecoveryReporter = @Sendable (_ assignmentID: String, ApplyStepReport) async -> Void

/// An apply that was interrupted (crash, kill, reboot) and that recovery finished or rolled back.
public struct RecoveredApply: Sendable, Equatable {
    /// The assignment the interrupted apply belonged to.
    public var assignmentID: String
    /// The `finished` step, with its outcome.
    public var finished: ApplyStepReport

    /// - Parameters:
    ///   - assignmentID: the assignment the interrupted apply belonged to.
    ///   - finished: the `finished` step, with its outcome.
    public init(assignmentID: String, finished: ApplyStepReport) {
        self.assignmentID = assignmentID
        self.finished = finished
    }
}

/// Applies exact package sets on a host: the real apt/dpkg backend (``AptBackend``) or a
/// simulated one for the rollout engine's tests.
///
/// Implementations never throw: every way an apply can end, bad input included, is an
/// ``ApplyOutcome`` on the returned `finished` step, so the controller always learns what happened.
public protocol PackageBackend: Sendable {
    /// Applies one assignment: preflight, save rollback material, hold restarts, install,
    /// validate, restart, check health, roll back on failure.
    ///
    /// Cancelling the calling task stops the apply only before anything is installed; once
    /// the install started, the apply runs to its end (success or rollback), so a SIGTERM
    /// never leaves dpkg half done.
    /// - Parameters:
    ///   - instructions: the exact package set and the role's checks and hooks.
    ///   - assignmentID: the controller's id of the assignment (letters, digits, `.`, `_`, `-`).
    ///   - report: called with each step as it happens, the `finished` step last.
    /// - Returns: the `finished` step, whose ``ApplyStepReport/outcome`` is set.
    func apply(_ instructions: ApplyInstructions, assignmentID: String, report: @escaping ApplyReporter) async
        -> ApplyStepReport

    /// Finishes or rolls back an apply that the journal shows was interrupted. Call it once at
    /// agent start, before anything else; it also removes a restart hold left behind.
    /// - Parameter report: called with each recovery step as it happens, the `finished` step last.
    /// - Returns: what was recovered, or `nil` when no apply was pending.
    func recover(report: @escaping RecoveryReporter) async -> RecoveredApply?

    /// What apt would do with exactly `pins` on this host (`apt-get -s install`), for a plan:
    /// nothing changes. Never throws: a refusal is the report's `error`.
    func simulate(_ pins: [PackagePin]) async -> SimulationReport
}
