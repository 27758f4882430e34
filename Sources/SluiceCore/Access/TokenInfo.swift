/// An operator or enrollment token as it is listed: what it is and its state, never its
/// secret or the secret's hash.
public struct TokenInfo: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable, CaseIterable {
        case active, expired, revoked
        /// An enrollment token with no enrollment left.
        case usedUp = "used-up"
    }

    public var keyID: String
    public var name: String
    /// Operator tokens only.
    public var role: OperatorRole?
    /// Enrollment tokens bound to labels only.
    public var labels: Labels?
    /// Enrollment tokens only.
    public var usesLeft: Int?
    public var state: State
    public var createdAtMs: Int64
    /// The actor that created it, as the audit log names it.
    public var createdBy: String
    public var expiresAtMs: Int64?
    /// Operator tokens only; kept to the minute.
    public var lastUsedAtMs: Int64?
    public var revokedAtMs: Int64?
    public var revokedBy: String?
    public var revokeReason: String?

    public init(
        keyID: String, name: String, role: OperatorRole? = nil, labels: Labels? = nil, usesLeft: Int? = nil, state: State, createdAtMs: Int64,
        createdBy: String, expiresAtMs: Int64? = nil, lastUsedAtMs: Int64? = nil, revokedAtMs: Int64? = nil, revokedBy: String? = nil,
        revokeReason: String? = nil
    ) {
        self.keyID = keyID
        self.name = name
        self.role = role
        self.labels = labels
        self.usesLeft = usesLeft
        self.state = state
        self.createdAtMs = createdAtMs
        self.createdBy = createdBy
        self.expiresAtMs = expiresAtMs
        self.lastUsedAtMs = lastUsedAtMs
        self.revokedAtMs = revokedAtMs
        self.revokedBy = revokedBy
        self.revokeReason = revokeReason
    }

    /// A token's state at `nowMs`: revoked wins over expired, expired over used up.
    public static func state(revokedAtMs: Int64?, expiresAtMs: Int64?, usesLeft: Int?, nowMs: Int64) -> State {
        if revokedAtMs != nil { return .revoked }
        if let expiresAtMs, expiresAtMs <= nowMs { return .expired }
        if let usesLeft, usesLeft <= 0 { return .usedUp }
        return .active
    }
}
