import SluiceCore

/// `POST /v1/rollouts` and `POST /v1/rollouts/plan`.
public struct CreateRolloutRequest: Sendable, Codable, Equatable {
    public var policy: String
    /// Exact pins; absent: every pending candidate the policy qualifies.
    public var packages: [PackagePin]?
    public init(policy: String, packages: [PackagePin]? = nil) {
        self.policy = policy
        self.packages = packages
    }
}

public struct RolloutList: Sendable, Codable, Equatable {
    public var rollouts: [RolloutSummary]
    public init(rollouts: [RolloutSummary]) { self.rollouts = rollouts }
}

/// `POST /v1/rollouts/{id}/approve|pause|resume|abort`.
public struct DecisionRequest: Sendable, Codable, Equatable {
    /// For approve: the wave's name; absent: the first pending wave.
    public var wave: String?
    public var reason: String?
    public init(wave: String? = nil, reason: String? = nil) {
        self.wave = wave
        self.reason = reason
    }
}

/// `POST /v1/rollouts/{id}/revert`: reinstall, on the hosts the rollout changed, the exact
/// versions they had before it, as a revert rollout of its own.
public struct RevertRequest: Sendable, Codable, Equatable {
    /// Only this host; absent: every host the rollout changed that is not reverted already.
    public var host: HostID?
    /// Why, for the audit log (required).
    public var reason: String
    public init(host: HostID? = nil, reason: String) {
        self.host = host
        self.reason = reason
    }
}

public struct PolicyList: Sendable, Codable, Equatable {
    public var policies: [Policy]
    public init(policies: [Policy]) { self.policies = policies }
}

/// `PUT /v1/hosts/{id}/health`: a heartbeat with the result of the role's health checks.
public struct HealthReport: Sendable, Codable, Equatable {
    public var healthy: Bool
    public var detail: String
    public init(healthy: Bool, detail: String) {
        self.healthy = healthy
        self.detail = detail
    }
}

/// `GET /v1/hosts/{id}/assignment?wait=SECONDS&known=ETAG`: answers at once when the
/// host's assignment differs from `known`, otherwise when it changes or `wait` runs out.
public struct AssignmentPoll: Sendable, Codable, Equatable {
    /// Opaque; pass it back as `known` to wait for the next change.
    public var etag: String
    public var assignment: HostAssignment?
    /// A plan's question: what apt would do with these pins here. Answer it with
    /// `POST /v1/hosts/{id}/simulations/{simulationID}`; it changes nothing on the host.
    public var simulation: SimulationRequest?
    public init(etag: String, assignment: HostAssignment?, simulation: SimulationRequest? = nil) {
        self.etag = etag
        self.assignment = assignment
        self.simulation = simulation
    }
}

/// `POST /v1/hosts/{id}/simulations/{simulationID}` answer.
public struct SimulationAccepted: Sendable, Codable, Equatable {
    public var simulationID: Int64
    public init(simulationID: Int64) { self.simulationID = simulationID }
}

/// The assignment's state after a step report.
public struct StepAccepted: Sendable, Codable, Equatable {
    public var state: AssignmentState
    public init(state: AssignmentState) { self.state = state }
}

/// `POST /v1/hosts/{id}/resolve` (body: a `DecisionRequest` with the reason): the host's
/// failed assignments no longer hold their group's capacity.
public struct ResolveResponse: Sendable, Codable, Equatable {
    public var hostID: HostID
    public var resolved: Int
    public init(hostID: HostID, resolved: Int) {
        self.hostID = hostID
        self.resolved = resolved
    }
}
