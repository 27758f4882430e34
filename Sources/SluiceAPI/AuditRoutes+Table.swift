import SluiceCore

/// The audit routes, part of `APIRoute.all`, served by `AuditRoutes` in SluiceController and
/// documented in `openapi/sluice-v1.yaml`.
extension APIRoute {
    /// `GET /v1/audit?since&until&rollout&host&region&group&package&actor&kind&after&through&limit&take`:
    /// an `AuditPage` of events in sequence order (`AuditQuery.parameters` names the parameters).
    public static let queryAudit = APIRoute(.GET, "/v1/audit", .operatorRole(.viewer))
    /// `GET /v1/audit/verify`: an `AuditVerification` of the whole chain.
    public static let verifyAudit = APIRoute(.GET, "/v1/audit/verify", .operatorRole(.viewer))
    /// `GET /v1/rollouts/{rolloutID}/history`: the `RolloutHistory` a postmortem is computed from.
    public static let rolloutHistory = APIRoute(.GET, "/v1/rollouts/{rolloutID}/history", .operatorRole(.viewer))

    /// The audit routes (in `all`).
    public static let audit: [APIRoute] = [queryAudit, verifyAudit, rolloutHistory]
}
