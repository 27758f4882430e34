import Hummingbird
import Logging
import NIOHTTP1

/// Turns every error into the API's JSON error shape. Unknown errors become a 500 with a
/// generic message; their detail goes to the log, never to the client. A client that went
/// away mid-request, or sent broken HTTP framing, is no fault of the controller: a debug line,
/// and the error passed on for HTTP to close the connection (with a 400 for broken framing).
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
            if ClientDisconnect.caused(error) {
                context.logger.debug("\(request.method) \(request.uri.path): client disconnected mid-request (\(error))")
                throw error
            }
            if error is HTTPParserError {
                // Malformed framing (a bad chunk size): HTTP itself answers 400 and closes the
                // connection, which it does only for the parser's own error, passed on as it is.
                context.logger.debug("\(request.method) \(request.uri.path): malformed HTTP request (\(error))")
                throw error
            }
            context.logger.error("\(request.method) \(request.uri.path): internal error: \(String(reflecting: error))")
            throw APIError(status: .internalServerError, code: "internal", message: "internal error; see the controller's log")
        }
    }
}
