/// A rollout in a list.
public struct RolloutSummary: Sendable, Codable, Equatable {
    public var id: Int64
    public var policy: String
    public var state: RolloutState
    public var reason: String?
    public var createdAtMs: Int64
    public var createdBy: String
    public var packages: [PackagePin]
    /// The first wave that has not passed.
    public var currentWave: String?
    /// How many assignments are in each state.
    public var counts: [String: Int]
    /// For a revert rollout, the rollout whose hosts it puts back on their previous versions.
    public var revertOf: Int64?

    public init(
        id: Int64, policy: String, state: RolloutState, reason: String?, createdAtMs: Int64, createdBy: String, packages: [PackagePin],
        currentWave: String?, counts: [String: Int], revertOf: Int64? = nil
    ) {
        self.id = id
        self.policy = policy
        self.state = state
        self.reason = reason
        self.createdAtMs = createdAtMs
        self.createdBy = createdBy
        self.packages = packages
        self.currentWave = currentWave
        self.counts = counts
        self.revertOf = revertOf
    }
}

public struct AssignmentDetail: Sendable, Codable, Equatable {
    public var id: Int64
    public var hostID: HostID
    public var batch: Int
    public var group: String
    public var state: AssignmentState
    public var detail: String?

    public init(id: Int64, hostID: HostID, batch: Int, group: String, state: AssignmentState, detail: String?) {
        self.id = id
        self.hostID = hostID
        self.batch = batch
        self.group = group
        self.state = state
        self.detail = detail
    }
}

public struct WaveDetail: Sendable, Codable, Equatable {
    public var index: Int
    public var name: String
    public var state: WaveState
    public var approval: Approval
    public var approvedBy: String?
    public var soakSeconds: Int64
    public var soakStartedAtMs: Int64?
    public var hosts: [AssignmentDetail]

    public init(
        index: Int, name: String, state: WaveState, approval: Approval, approvedBy: String?, soakSeconds: Int64, soakStartedAtMs: Int64?,
        hosts: [AssignmentDetail]
    ) {
        self.index = index
        self.name = name
        self.state = state
        self.approval = approval
        self.approvedBy = approvedBy
        self.soakSeconds = soakSeconds
        self.soakStartedAtMs = soakStartedAtMs
        self.hosts = hosts
    }
}

/// `sluicectl rollout status`: every wave and host, and what is waiting on what.
public struct RolloutDetail: Sendable, Codable, Equatable {
    public var summary: RolloutSummary
    public var waves: [WaveDetail]
    public var warnings: [String]
    /// One sentence per thing that holds the rollout back right now.
    public var waitingOn: [String]
    /// What each host's apt said it would do with the set when the rollout was created.
    public var simulation: PlanSimulation?

    public init(summary: RolloutSummary, waves: [WaveDetail], warnings: [String], waitingOn: [String], simulation: PlanSimulation? = nil) {
        self.summary = summary
        self.waves = waves
        self.warnings = warnings
        self.waitingOn = waitingOn
        self.simulation = simulation
    }
}

/// What an agent is told to do: its assignment and the instructions from the policy.
public struct HostAssignment: Sendable, Codable, Equatable {
    public var id: Int64
    public var rolloutID: Int64
    public var state: AssignmentState
    public var instructions: ApplyInstructions

    public init(id: Int64, rolloutID: Int64, state: AssignmentState, instructions: ApplyInstructions) {
        self.id = id
        self.rolloutID = rolloutID
        self.state = state
        self.instructions = instructions
    }
}

extension RolloutDetail {
    /// Explains, for people, why the rollout is not moving: approvals, windows, soaks,
    /// silent hosts and full groups.
    public static func waitingOn(rollout: RolloutStatus, snapshot: ReconcileSnapshot, nowMs: Int64) -> [String] {
        let assignments = snapshot.assignments, hosts = snapshot.hosts, staleAfterMs = snapshot.staleAfterMs
        switch rollout.state {
        case .paused: return ["paused by an operator: resume to continue"]
        case .completed, .halted, .aborted: return []
        case .running: break
        }
        guard let wave = rollout.waves.first(where: { $0.state != .passed }) else { return [] }
        let spec = rollout.policy.waves[wave.index]
        var out: [String] = []
        let mine = assignments.filter { $0.rolloutID == rollout.id && $0.waveIndex == wave.index }
        for a in mine where a.state.isInFlight || (wave.state == .soaking && a.state == .succeeded) {
            if let seen = hosts[a.hostID]?.lastSeenAtMs, nowMs - seen > staleAfterMs {
                out.append("host \(a.hostID) is silent for \(formatDuration(ms: nowMs - seen)): promotion blocked")
            }
        }
        switch wave.state {
        case .pending:
            if spec.approval == .manual && wave.approvedBy == nil { out.append("wave \(spec.name) waits for approval (sluicectl wave approve \(rollout.id) \(spec.name))") }
            if !spec.isOpen(atMs: nowMs) { out.append("wave \(spec.name) waits for its maintenance window") }
        case .running:
            if !spec.isOpen(atMs: nowMs) { out.append("wave \(spec.name) is outside its maintenance window: no new host starts") }
            var availability = GroupAvailability(snapshot, nowMs: nowMs)
            let openBatch = mine.filter { !$0.state.isFinished }.map(\.batch).min() ?? 0
            for a in mine where a.state == .pending && a.batch == openBatch {
                if let blocker = availability.blocker(for: a.hostID, rollout.policy.groups) { out.append("host \(a.hostID) waits: \(blocker)") }
            }
            let inFlight = mine.filter(\.state.isInFlight).map(\.hostID.description)
            if !inFlight.isEmpty { out.append("wave \(spec.name) applying on \(inFlight.joined(separator: ", "))") }
        case .soaking:
            if let started = wave.soakStartedAtMs {
                let left = spec.soakSeconds * 1000 - (nowMs - started)
                if left > 0 { out.append("wave \(spec.name) soaking, \(formatDuration(ms: left)) left") }
            }
        case .passed, .failed:
            break
        }
        return out
    }
}
