import SluiceCore

extension RouteAccess {
    /// Whether `principal` may call a route with this access rule.
    /// - Parameters:
    ///   - principal: `nil` for a request without a credential.
    ///   - pathHost: the `{hostID}` of the request's path, if the route has one.
    /// - Returns: `nil` when allowed, otherwise why not (for a 401 when there is no
    ///   principal, a 403 otherwise).
    public func refusal(for principal: Principal?, pathHost: HostID?) -> String? {
        if case .anyone = self { return nil }
        guard let principal else { return "this route needs a credential: \(self)" }
        switch (self, principal) {
        case (.enrollmentToken, .enrollment):
            return nil
        case (.hostItself, .host(let id, _)), (.operatorRoleOrHostItself, .host(let id, _)):
            return id == pathHost ? nil : "host \(id) may only read and write its own records"
        case (.operatorRole(let needed), .operatorToken(_, let role, _)),
            (.operatorRoleOrHostItself(let needed), .operatorToken(_, let role, _)):
            return role >= needed ? nil : "this route needs the \(needed.rawValue) role; token has \(role.rawValue)"
        default:
            return "this route is for \(self)"
        }
    }
}
