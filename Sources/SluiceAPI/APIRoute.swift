import SluiceCore

/// Who may call a route. The controller authorises every request against this table and
/// the test suite checks the table against `openapi/sluice-v1.yaml`.
public enum RouteAccess: Sendable, Equatable, CustomStringConvertible {
    /// No credential (liveness only).
    case anyone
    /// A bootstrap token, and only to enroll.
    case enrollmentToken
    /// The host named in the path, with its own secret.
    case hostItself
    /// An operator token of at least this role.
    case operatorRole(OperatorRole)
    /// An operator of at least this role, or the host named in the path.
    case operatorRoleOrHostItself(OperatorRole)

    public var description: String {
        switch self {
        case .anyone: "anyone"
        case .enrollmentToken: "enrollment token"
        case .hostItself: "the host itself"
        case .operatorRole(let role): "operator (\(role.rawValue) or above)"
        case .operatorRoleOrHostItself(let role): "operator (\(role.rawValue) or above) or the host itself"
        }
    }
}

/// One route of the `/v1` API.
public struct APIRoute: Sendable, Equatable {
    public enum Method: String, Sendable { case GET, POST, PUT, DELETE }

    public let method: Method
    /// The path as OpenAPI writes it, parameters in braces: `/v1/hosts/{hostID}`.
    public let path: String
    public let access: RouteAccess

    public init(_ method: Method, _ path: String, _ access: RouteAccess) {
        self.method = method
        self.path = path
        self.access = access
    }

    /// The same path as Hummingbird writes it: `/v1/hosts/:hostID`.
    public var routerPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? ":" + part.dropFirst().dropLast() : String(part)
        }.joined(separator: "/")
    }

    public static let health = APIRoute(.GET, "/v1/health", .anyone)
    public static let enroll = APIRoute(.POST, "/v1/enroll", .enrollmentToken)
    public static let putInventory = APIRoute(.PUT, "/v1/hosts/{hostID}/inventory", .hostItself)
    public static let confirmInventory = APIRoute(.PUT, "/v1/hosts/{hostID}/inventory/digest", .hostItself)
    public static let listHosts = APIRoute(.GET, "/v1/hosts", .operatorRole(.viewer))
    public static let getHost = APIRoute(.GET, "/v1/hosts/{hostID}", .operatorRoleOrHostItself(.viewer))
    public static let listUpdates = APIRoute(.GET, "/v1/updates", .operatorRole(.viewer))
    public static let createToken = APIRoute(.POST, "/v1/tokens", .operatorRole(.admin))
    public static let createEnrollmentToken = APIRoute(.POST, "/v1/enrollment-tokens", .operatorRole(.admin))

    public static let putHealth = APIRoute(.PUT, "/v1/hosts/{hostID}/health", .hostItself)
    public static let pollAssignment = APIRoute(.GET, "/v1/hosts/{hostID}/assignment", .hostItself)
    public static let reportStep = APIRoute(.POST, "/v1/hosts/{hostID}/assignments/{assignmentID}/steps", .hostItself)
    public static let reportSimulation = APIRoute(.POST, "/v1/hosts/{hostID}/simulations/{simulationID}", .hostItself)
    public static let reportHandover = APIRoute(.POST, "/v1/hosts/{hostID}/handover", .hostItself)
    public static let listPolicies = APIRoute(.GET, "/v1/policies", .operatorRole(.viewer))
    public static let planRollout = APIRoute(.POST, "/v1/rollouts/plan", .operatorRole(.viewer))
    public static let createRollout = APIRoute(.POST, "/v1/rollouts", .operatorRole(.operator))
    public static let listRollouts = APIRoute(.GET, "/v1/rollouts", .operatorRole(.viewer))
    public static let getRollout = APIRoute(.GET, "/v1/rollouts/{rolloutID}", .operatorRole(.viewer))
    public static let approveWave = APIRoute(.POST, "/v1/rollouts/{rolloutID}/approve", .operatorRole(.operator))
    public static let pauseRollout = APIRoute(.POST, "/v1/rollouts/{rolloutID}/pause", .operatorRole(.operator))
    public static let resumeRollout = APIRoute(.POST, "/v1/rollouts/{rolloutID}/resume", .operatorRole(.operator))
    public static let abortRollout = APIRoute(.POST, "/v1/rollouts/{rolloutID}/abort", .operatorRole(.operator))
    public static let revertRollout = APIRoute(.POST, "/v1/rollouts/{rolloutID}/revert", .operatorRole(.operator))
    public static let resolveHost = APIRoute(.POST, "/v1/hosts/{hostID}/resolve", .operatorRole(.operator))

    /// Every route the controller serves.
    public static let all: [APIRoute] = [
        health, enroll, putInventory, confirmInventory, listHosts, getHost, listUpdates, createToken, createEnrollmentToken,
        putHealth, pollAssignment, reportStep, reportSimulation, reportHandover, listPolicies, planRollout, createRollout, listRollouts, getRollout,
        approveWave, pauseRollout, resumeRollout, abortRollout, revertRollout, resolveHost,
    ] + audit + identity
}
