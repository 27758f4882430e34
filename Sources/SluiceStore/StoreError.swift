/// Why the store refused an operation. Every case carries a one-line message for people.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database file's schema is not one this binary can use; nothing was changed.
    case incompatibleSchema(String)
    case notFound(String)
    case conflict(String)
    /// The presented credential is missing, unknown, wrong, expired or revoked.
    case unauthenticated(String)
    /// The host's own secret was right, but the host has been revoked: a 401 of its own
    /// (`host_revoked`), on which the agent hands its host back to unattended-upgrades.
    case hostRevoked(String)
    /// The credential is valid but may not do this.
    case forbidden(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .incompatibleSchema(let m), .notFound(let m), .conflict(let m), .unauthenticated(let m), .hostRevoked(let m),
            .forbidden(let m), .invalid(let m):
            m
        }
    }
}
