import Foundation
import Hummingbird
import SluiceCore
import SluiceStore
#if canImport(Glibc)
import Glibc
#endif

/// Reads `Authorization: Bearer <token>` and sets the request's principal. A request with
/// no credential goes on anonymous (routes then refuse it); a credential that is present
/// but wrong is refused here, before any route runs.
///
/// Every request also takes one token from its identity's rate-limit bucket: the key id of
/// an operator's or a host's credential, or the source address when there is none or it is
/// wrong (so guessing secrets is slowed per address). Enrollment is limited per source
/// address, by the enroll route. Limits by address exempt loopback: local scripts and the
/// simulated fleets of the demo and benchmarks come from there, and whoever is on the
/// controller's own host is past what a rate limit protects.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let database: SluiceDatabase
    let clock: any WallClock
    var limiter = RateLimiter(ControllerSettings().rateLimit)
    /// Told of every connection that carries a valid credential (it is then never cut as idle
    /// and unauthenticated); nil where there are no sockets (router tests).
    var connections: ConnectionGuard? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            try Self.limitAddress(limiter, context.remoteAddress)
            return try await next(request, context)
        }
        var context = context
        do {
            guard header.hasPrefix("Bearer "), header.utf8.count <= 256 else {
                throw APIError.unauthenticated("Authorization header must be \"Bearer <token>\"")
            }
            context.principal = try database.authenticate(token: String(header.dropFirst("Bearer ".count)), nowMs: clock.nowMs())
        } catch {
            try Self.limitAddress(limiter, context.remoteAddress)
            throw error
        }
        connections?.authenticated(context.channel)
        switch context.principal {
        case .operatorToken(_, _, let keyID), .host(_, let keyID):
            try Self.limit(limiter, "key:\(keyID)")
        case .enrollment, nil:
            break
        }
        return try await next(request, context)
    }

    /// Limits by source address, except from loopback.
    static func limitAddress(_ limiter: RateLimiter, _ address: String) throws {
        guard !Loopback.contains(address) else { return }
        try limit(limiter, "address:\(IPv6Prefix.slash64(address))")
    }

    static func limit(_ limiter: RateLimiter, _ key: String) throws {
        if let wait = limiter.take(key) {
            let seconds = max(1, Int(wait.rounded(.up)))
            throw APIError(
                status: .tooManyRequests, code: "rate_limited",
                message: "too many requests from this \(key.hasPrefix("key:") ? "credential" : "address"): retry in \(seconds) s",
                retryAfterSeconds: seconds)
        }
    }
}

/// One IPv6 holder usually has a whole /64: limits by address count it as one.
enum IPv6Prefix {
    static func slash64(_ address: String) -> String {
        guard address.contains(":"), !address.lowercased().hasPrefix("::ffff:") else { return address }
        var bytes = in6_addr()
        guard inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        let prefix = withUnsafeBytes(of: &bytes) { Array($0.prefix(8)) }
        return prefix.map { String($0, radix: 16) }.joined(separator: ".") + "/64"
    }
}
