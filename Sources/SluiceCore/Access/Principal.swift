/// Who is making a request, once their credential has been checked.
public enum Principal: Sendable, Equatable {
    /// A person or script holding an operator token.
    case operatorToken(name: String, role: OperatorRole, keyID: String)
    /// An agent, authenticated by the per-host secret it got at enrollment.
    case host(HostID, keyID: String)
    /// A bootstrap token that may only enroll a new host.
    case enrollment(name: String, keyID: String)

    /// The actor recorded in the audit log for what this principal does.
    public var actor: Actor {
        switch self {
        case .operatorToken(let name, _, _): .operatorNamed(name)
        case .host(let id, _): .agent(id)
        case .enrollment(let name, _): .enrollment(name)
        }
    }
}

/// What an operator token may do. Later roles only add to earlier ones.
public enum OperatorRole: String, Sendable, Codable, CaseIterable, Comparable {
    case viewer, `operator`, admin

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .operator: 1
        case .admin: 2
        }
    }
    public static func < (a: OperatorRole, b: OperatorRole) -> Bool { a.rank < b.rank }
}

/// The author of an audit event, written `operator:NAME`, `agent:HOST`, `enrollment:NAME`
/// or `controller`.
public enum Actor: Sendable, Hashable, CustomStringConvertible {
    case operatorNamed(String)
    case agent(HostID)
    case enrollment(String)
    case controller
    /// `sluiced` run locally on the controller host, outside the API (`sluiced token create`).
    case local(String)

    public var description: String {
        switch self {
        case .operatorNamed(let name): "operator:\(name)"
        case .agent(let host): "agent:\(host)"
        case .enrollment(let name): "enrollment:\(name)"
        case .controller: "controller"
        case .local(let user): "local:\(user)"
        }
    }
}
