import Hummingbird
import SluiceCore
import SluiceStore

/// Reads `Authorization: Bearer <token>` and sets the request's principal. A request with
/// no credential goes on anonymous (routes then refuse it); a credential that is present
/// but wrong is refused here, before any route runs.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let database: SluiceDatabase
    let clock: any WallClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            return try await next(request, context)
        }
        guard header.hasPrefix("Bearer "), header.utf8.count <= 256 else {
            throw APIError.unauthenticated("Authorization header must be \"Bearer <token>\"")
        }
        var context = context
        context.principal = try database.authenticate(token: String(header.dropFirst("Bearer ".count)), nowMs: clock.nowMs())
        return try await next(request, context)
    }
}
