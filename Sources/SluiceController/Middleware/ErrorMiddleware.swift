import Hummingbird
import Logging

/// Turns every error into the API's JSON error shape. Unknown errors become a 500 with a
/// generic message; their detail goes to the log, never to the client.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            if let apiError = APIError.from(error) {
                if apiError.status.code >= 500 { context.logger.error("\(request.method) \(request.uri.path): \(error)") }
                throw apiError
            }
            context.logger.error("\(request.method) \(request.uri.path): internal error: \(String(reflecting: error))")
            throw APIError(status: .internalServerError, code: "internal", message: "internal error; see the controller's log")
        }
    }
}
