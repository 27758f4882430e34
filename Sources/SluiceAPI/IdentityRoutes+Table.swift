import SluiceCore

/// The routes that manage identities, part of `APIRoute.all`: listing and revoking tokens,
/// revoking hosts and deciding on their labels. Served by `TokenRoutes` and `HostRoutes` in
/// SluiceController and documented in `openapi/sluice-v1.yaml`.
extension APIRoute {
    /// `GET /v1/tokens`: a `TokenList` of every operator token, without secrets.
    public static let listTokens = APIRoute(.GET, "/v1/tokens", .operatorRole(.admin))
    /// `POST /v1/tokens/{keyID}/revoke` (a `RevokeRequest`): the `TokenInfo` after revoking it.
    public static let revokeToken = APIRoute(.POST, "/v1/tokens/{keyID}/revoke", .operatorRole(.admin))
    /// `GET /v1/enrollment-tokens`: a `TokenList` of every enrollment token, without secrets.
    public static let listEnrollmentTokens = APIRoute(.GET, "/v1/enrollment-tokens", .operatorRole(.admin))
    /// `POST /v1/enrollment-tokens/{keyID}/revoke` (a `RevokeRequest`): the `TokenInfo` after revoking it.
    public static let revokeEnrollmentToken = APIRoute(.POST, "/v1/enrollment-tokens/{keyID}/revoke", .operatorRole(.admin))
    /// `POST /v1/hosts/{hostID}/revoke` (a `RevokeRequest`): a `HostRevoked`.
    public static let revokeHost = APIRoute(.POST, "/v1/hosts/{hostID}/revoke", .operatorRole(.admin))
    /// `POST /v1/hosts/{hostID}/labels` (a `HostLabelsRequest`): a `HostLabelsResponse`.
    /// Operators approve label changes as they approve waves: both decide where a host updates.
    public static let decideHostLabels = APIRoute(.POST, "/v1/hosts/{hostID}/labels", .operatorRole(.operator))

    /// The identity routes (in `all`).
    public static let identity: [APIRoute] = [
        listTokens, revokeToken, listEnrollmentTokens, revokeEnrollmentToken, revokeHost, decideHostLabels,
    ]
}
