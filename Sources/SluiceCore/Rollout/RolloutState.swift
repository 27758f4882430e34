public enum RolloutState: String, Sendable, Codable, CaseIterable {
    case running, paused, completed, halted, aborted
    public var isFinished: Bool { self == .completed || self == .halted || self == .aborted }
}

public enum WaveState: String, Sendable, Codable, CaseIterable {
    /// Waiting for the previous wave, its approval or its window.
    case pending
    case running
    /// Every host succeeded; health must hold for the soak.
    case soaking
    case passed
    case failed
}

/// What one host must do in one rollout:
/// pending -> started -> applying -> verifying -> succeeded | rolled-back | refused | failed (or cancelled).
public enum AssignmentState: String, Sendable, Codable, CaseIterable {
    case pending
    /// The controller told the agent to go; the agent has not begun.
    case started
    case applying
    case verifying
    case succeeded
    case rolledBack = "rolled-back"
    /// The agent's preflight refused the set, or the host was unhealthy before it: nothing was touched.
    case refused
    case failed
    case cancelled

    /// The host may be down or changing right now.
    public var isInFlight: Bool { self == .started || self == .applying || self == .verifying }
    public var isFinished: Bool { self == .succeeded || self == .rolledBack || self == .refused || self == .failed || self == .cancelled }
    /// Counts against the wave's failure budget.
    public var isFailure: Bool { self == .rolledBack || self == .refused || self == .failed }
}
