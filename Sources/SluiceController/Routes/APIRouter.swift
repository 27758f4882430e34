import Hummingbird
import SluiceAPI
import SluiceCore

/// Who called, once the route's access rule let them through.
struct Caller: Sendable {
    let principal: Principal?
    /// The `{hostID}` of the path, validated, when the route has one.
    let pathHost: HostID?

    var actor: Actor { principal?.actor ?? .controller }
}

/// Mounts handlers by their `APIRoute`, so no route can exist without its access rule:
/// authorisation happens here, from the table, before any handler runs.
struct APIRouter {
    let router: Router<SluiceRequestContext>
    /// Mutual TLS: a host must also present a client certificate that names it.
    var requireClientCertificates = false

    func add(
        _ route: APIRoute,
        _ handler: @escaping @Sendable (Request, SluiceRequestContext, Caller) async throws -> some ResponseGenerator
    ) {
        let method = HTTPRequest.Method(rawValue: route.method.rawValue)!
        let requireClientCertificates = self.requireClientCertificates
        router.on(RouterPath(route.routerPath), method: method) { (request: Request, context: SluiceRequestContext) async throws -> Response in
            // No credential: refuse before looking at anything else the request says.
            if context.principal == nil, let refusal = route.access.refusal(for: nil, pathHost: nil) {
                throw APIError.unauthenticated(refusal)
            }
            var pathHost: HostID?
            if let raw = context.parameters.get("hostID") {
                do { pathHost = try HostID(parsing: raw) } catch let error as InvalidInput { throw APIError.invalid("path: \(error.message)") }
            }
            if let refusal = route.access.refusal(for: context.principal, pathHost: pathHost) {
                throw context.principal == nil ? APIError.unauthenticated(refusal) : APIError.forbidden(refusal)
            }
            if requireClientCertificates, case .host(let host, _) = context.principal {
                try await ClientCertificateCheck.require(host: host, on: context.channel)
            }
            return try await handler(request, context, Caller(principal: context.principal, pathHost: pathHost))
                .response(from: request, context: context)
        }
    }
}
