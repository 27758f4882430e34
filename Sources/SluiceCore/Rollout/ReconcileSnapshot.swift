/// One assignment as the reconciler sees it.
public struct AssignmentStatus: Sendable, Codable, Equatable {
    public var id: Int64
    public var rolloutID: Int64
    public var hostID: HostID
    public var waveIndex: Int
    public var batch: Int
    /// The key `max_unavailable` counts by: the redundancy group, or the host alone.
    public var capacityKey: String
    public var state: AssignmentState
    /// A failed assignment stays unavailable for its group until an operator resolves it.
    public var resolved: Bool
    /// When the controller told the host to go (nil while pending).
    public var startedAtMs: Int64?

    public init(
        id: Int64, rolloutID: Int64, hostID: HostID, waveIndex: Int, batch: Int, capacityKey: String, state: AssignmentState,
        resolved: Bool = false, startedAtMs: Int64? = nil
    ) {
        self.id = id
        self.rolloutID = rolloutID
        self.hostID = hostID
        self.waveIndex = waveIndex
        self.batch = batch
        self.capacityKey = capacityKey
        self.state = state
        self.resolved = resolved
        self.startedAtMs = startedAtMs
    }

    /// Counts against its group's `max_unavailable`.
    public var holdsCapacity: Bool { state.isInFlight || (state == .failed && !resolved) }
}

public struct WaveStatus: Sendable, Codable, Equatable {
    public var index: Int
    public var name: String
    public var state: WaveState
    public var approvedBy: String?
    public var soakStartedAtMs: Int64?

    public init(index: Int, name: String, state: WaveState, approvedBy: String? = nil, soakStartedAtMs: Int64? = nil) {
        self.index = index
        self.name = name
        self.state = state
        self.approvedBy = approvedBy
        self.soakStartedAtMs = soakStartedAtMs
    }
}

/// A rollout that is not finished, with its policy's waves.
public struct RolloutStatus: Sendable, Codable, Equatable {
    public var id: Int64
    public var policy: Policy
    public var state: RolloutState
    public var waves: [WaveStatus]
    /// For a revert rollout, the rollout it reverts: its hosts may be unhealthy (that is why
    /// they are reverted), so an unhealthy host does not wait for health to start.
    public var revertOf: Int64?

    public init(id: Int64, policy: Policy, state: RolloutState, waves: [WaveStatus], revertOf: Int64? = nil) {
        self.id = id
        self.policy = policy
        self.state = state
        self.waves = waves
        self.revertOf = revertOf
    }
}

/// What a host last said about itself.
public struct HostHealth: Sendable, Codable, Equatable {
    public var lastSeenAtMs: Int64?
    /// `nil` until the host reported health.
    public var healthy: Bool?
    /// Since when the current `healthy` value has held.
    public var sinceMs: Int64?

    public init(lastSeenAtMs: Int64?, healthy: Bool?, sinceMs: Int64?) {
        self.lastSeenAtMs = lastSeenAtMs
        self.healthy = healthy
        self.sinceMs = sinceMs
    }
}

/// Everything the reconciler decides from, read in one transaction.
public struct ReconcileSnapshot: Sendable, Equatable {
    /// Rollouts that are running or paused.
    public var rollouts: [RolloutStatus]
    /// Assignments of those rollouts, plus every unresolved failed assignment of any rollout.
    public var assignments: [AssignmentStatus]
    public var hosts: [HostID: HostHealth]
    /// Every enrolled host's labels: a redundancy group is counted over all its members, under
    /// each rollout's own policy, whatever rollout (if any) they are in.
    public var labels: [HostID: Labels]
    public var staleAfterMs: Int64

    public init(
        rollouts: [RolloutStatus], assignments: [AssignmentStatus], hosts: [HostID: HostHealth], labels: [HostID: Labels], staleAfterMs: Int64
    ) {
        self.rollouts = rollouts
        self.assignments = assignments
        self.hosts = hosts
        self.labels = labels
        self.staleAfterMs = staleAfterMs
    }
}

/// What the reconciler wants done. Each is applied as one transaction with its audit event,
/// and only if the state it was decided from still holds.
public enum ReconcileAction: Sendable, Equatable {
    case startWave(rollout: Int64, wave: Int)
    case startAssignment(rollout: Int64, assignment: Int64, host: HostID)
    case beginSoak(rollout: Int64, wave: Int)
    case passWave(rollout: Int64, wave: Int)
    case halt(rollout: Int64, wave: Int, reason: String)
    /// Halts as `halt`, and reverts `hosts` (updated, then unhealthy) to their previous
    /// versions as a revert rollout, in one step: the policy says `on_failure: revert`.
    case haltAndRevert(rollout: Int64, wave: Int, reason: String, hosts: [HostID])
    case complete(rollout: Int64)
    /// A host in flight or soaking stopped reporting: promotion is blocked and operators are told.
    case reportSilent(rollout: Int64, host: HostID, silentForMs: Int64)
    /// A host told to go has no result past its wave's apply deadline: it has failed.
    case expireAssignment(rollout: Int64, assignment: Int64, host: HostID, deadlineSeconds: Int64)
}
