import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import SluiceAPI
import SluiceCore
import SluiceProcess
import SluiceStore
import SluiceTLS

/// Builds the controller's router: error shaping, authentication, then every route of
/// `APIRoute.all` with its access rule.
public func buildRouter(
    database: SluiceDatabase, settings: ControllerSettings, clock: any WallClock, policies: [Policy] = [], signal: ChangeSignal = ChangeSignal(),
    authority: CertificateAuthority? = nil, connections: ConnectionGuard? = nil
) -> Router<SluiceRequestContext> {
    let router = Router(context: SluiceRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: AuthenticationMiddleware(database: database, clock: clock, limiter: RateLimiter(settings.rateLimit), connections: connections))
    let api = APIRouter(router: router, requireClientCertificates: settings.tls?.requireClientCertificates ?? false)
    let simulations = SimulationBoard()
    FleetRoutes(
        database: database, clock: clock, settings: settings, authority: authority, enrollmentLimiter: RateLimiter(settings.enrollmentRateLimit),
        inventoryLimiter: RateLimiter(settings.inventoryBudget)
    ).register(on: api)
    TokenRoutes(database: database, clock: clock).register(on: api)
    RolloutRoutes(
        database: database, clock: clock, settings: settings, policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.name, $0) }), signal: signal,
        simulations: simulations
    ).register(on: api)
    AgentRoutes(database: database, clock: clock, signal: signal, simulations: simulations, settings: settings).register(on: api)
    HostRoutes(database: database, clock: clock, signal: signal).register(on: api)
    AuditRoutes(database: database).register(on: api)
    return router
}

/// The whole controller as one Hummingbird application: tests call this too.
/// - Parameters:
///   - settings: where to listen and how to behave.
///   - database: an opened store.
///   - clock: where stored times come from.
///   - onServerRunning: called with the bound port once the socket listens (port 0 picks a free one).
/// - Throws: `InvalidInput` for plain HTTP off loopback, or TLS files that cannot be used.
public func buildApplication(
    settings: ControllerSettings, database: SluiceDatabase, clock: any WallClock = SystemWallClock(), logger: Logger,
    policies: [Policy] = [], runReconciler: Bool = true,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    try settings.checkTransport()
    let signal = ChangeSignal()
    let reconciler = ReconcilerService(database: database, clock: clock, settings: settings, signal: signal, logger: logger)
    let alerts = AlertDelivery(database: database, clock: clock, webhook: try settings.webhook(), signal: signal, logger: logger)
    let http1 = HTTP1Channel.Configuration(idleTimeout: .seconds(Int64(settings.idleTimeoutSeconds)))
    let connections = ConnectionGuard(settings.connectionLimits(openFileLimit: OpenFileLimit.current() ?? 1024))
    logger.info(
        "connections: at most \(connections.limits.maxConnections), \(connections.limits.maxPerAddress) per address, unauthenticated ones closed after \(connections.limits.unauthenticatedTimeout)")
    let server: HTTPServerBuilder
    var authority: CertificateAuthority?
    if let tls = settings.tls {
        let tlsConfiguration = try tls.serverConfiguration()
        server = HTTPServerBuilder { responder in
            GuardedChildChannel(
                base: try TLSChannel(HTTP1Channel(responder: responder, configuration: http1), tlsConfiguration: tlsConfiguration), connections: connections)
        }
        authority = try tls.signingAuthority()
        logger.notice(
            "serving HTTPS\(tls.requireClientCertificates ? " with client certificates required on agent routes" : "")\(authority != nil ? "; enrollment signs client certificates" : "")")
    } else {
        server = HTTPServerBuilder { responder in
            GuardedChildChannel(base: HTTP1Channel(responder: responder, configuration: http1), connections: connections)
        }
        logger.notice("serving plain HTTP, on loopback only (\(settings.host)); give --tls-cert and --tls-key to serve HTTPS")
    }
    return Application(
        router: buildRouter(database: database, settings: settings, clock: clock, policies: policies, signal: signal, authority: authority,
            connections: connections),
        server: server,
        // Closing displaced connections lags behind accepting new ones under a flood: accept
        // pauses while more sockets than the cap and a margin are still open, so their number
        // stays within the open-files limit and accept never fails for want of a descriptor.
        configuration: .init(
            address: .hostname(settings.host, port: settings.port), serverName: "sluiced/\(SluiceVersion.current)",
            availableConnectionsDelegate: MaximumAvailableConnections(connections.limits.maxSockets, logger: logger)),
        services: runReconciler
            ? [reconciler, RolloutScheduler(database: database, clock: clock, settings: settings, policies: policies, signal: signal, logger: logger), alerts]
                + (database.isInMemory ? [] : [AuditHeadWitness(database: database, clock: clock, logger: logger)])
            : [],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
        logger: logger
    )
}
