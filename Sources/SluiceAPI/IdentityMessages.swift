import SluiceCore

/// `GET /v1/tokens` and `GET /v1/enrollment-tokens`: oldest first, never a secret.
public struct TokenList: Sendable, Codable, Equatable {
    public var tokens: [TokenInfo]
    public init(tokens: [TokenInfo]) { self.tokens = tokens }
}

/// `POST /v1/tokens/{keyID}/revoke`, `/v1/enrollment-tokens/{keyID}/revoke` and
/// `/v1/hosts/{hostID}/revoke`.
public struct RevokeRequest: Sendable, Codable, Equatable {
    /// Why, for the audit log: required, one line, at most 1000 bytes.
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

/// `POST /v1/hosts/{hostID}/revoke` answer.
public struct HostRevoked: Sendable, Codable, Equatable {
    public var hostID: HostID
    public var revokedAtMs: Int64
    /// Pending or started assignments that will never run now.
    public var cancelledAssignments: Int
    /// Assignments the host was applying: marked failed (outcome unknown) until an operator resolves them.
    public var failedAssignments: Int
    public init(hostID: HostID, revokedAtMs: Int64, cancelledAssignments: Int, failedAssignments: Int) {
        self.hostID = hostID
        self.revokedAtMs = revokedAtMs
        self.cancelledAssignments = cancelledAssignments
        self.failedAssignments = failedAssignments
    }
}

/// What an operator does with a host's labels.
public enum LabelAction: String, Sendable, Codable, CaseIterable {
    /// Apply the labels the agent asked for.
    case approve
    /// Keep the current labels and remember the agent's request as rejected.
    case reject
    /// Replace the labels with `labels`.
    case set
}

/// `POST /v1/hosts/{hostID}/labels`.
public struct HostLabelsRequest: Sendable, Codable, Equatable {
    public var action: LabelAction
    /// The complete new set of labels: required for `set`, refused otherwise.
    public var labels: Labels?
    /// Why, for the audit log: required, one line, at most 1000 bytes.
    public var reason: String
    public init(action: LabelAction, labels: Labels? = nil, reason: String) {
        self.action = action
        self.labels = labels
        self.reason = reason
    }
}

/// `POST /v1/hosts/{hostID}/labels` answer.
public struct HostLabelsResponse: Sendable, Codable, Equatable {
    public var hostID: HostID
    /// The labels in use now.
    public var labels: Labels
    public var previousLabels: Labels
    public init(hostID: HostID, labels: Labels, previousLabels: Labels) {
        self.hostID = hostID
        self.labels = labels
        self.previousLabels = previousLabels
    }
}
