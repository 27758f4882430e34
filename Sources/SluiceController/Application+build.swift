import Foundation
import Hummingbird
import Logging
import SluiceAPI
import SluiceCore
import SluiceStore

/// Builds the controller's router: error shaping, authentication, then every route of
/// `APIRoute.all` with its access rule.
public func buildRouter(
    database: SluiceDatabase, settings: ControllerSettings, clock: any WallClock, policies: [Policy] = [], signal: ChangeSignal = ChangeSignal()
) -> Router<SluiceRequestContext> {
    let router = Router(context: SluiceRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: AuthenticationMiddleware(database: database, clock: clock))
    let api = APIRouter(router: router)
    FleetRoutes(database: database, clock: clock, settings: settings).register(on: api)
    TokenRoutes(database: database, clock: clock).register(on: api)
    RolloutRoutes(
        database: database, clock: clock, settings: settings, policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.name, $0) }), signal: signal
    ).register(on: api)
    AgentRoutes(database: database, clock: clock, signal: signal).register(on: api)
    AuditRoutes(database: database).register(on: api)
    return router
}

/// The whole controller as one Hummingbird application: tests call this too.
/// - Parameters:
///   - settings: where to listen and how to behave.
///   - database: an opened store.
///   - clock: where stored times come from.
///   - onServerRunning: called with the bound port once the socket listens (port 0 picks a free one).
public func buildApplication(
    settings: ControllerSettings, database: SluiceDatabase, clock: any WallClock = SystemWallClock(), logger: Logger,
    policies: [Policy] = [], runReconciler: Bool = true,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let signal = ChangeSignal()
    let alerts = settings.alertWebhook.flatMap { URL(string: $0) }.map { AlertSender(url: $0, logger: logger) }
    let reconciler = ReconcilerService(database: database, clock: clock, settings: settings, signal: signal, alerts: alerts, logger: logger)
    if !settings.isLoopbackOnly {
        logger.warning("listening on \(settings.host):\(settings.port) over plain HTTP: tokens cross the network unencrypted")
    }
    return Application(
        router: buildRouter(database: database, settings: settings, clock: clock, policies: policies, signal: signal),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "sluiced/\(SluiceVersion.current)"),
        services: runReconciler
            ? [reconciler, RolloutScheduler(database: database, clock: clock, settings: settings, policies: policies, signal: signal, logger: logger)]
            : [],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
        logger: logger
    )
}
