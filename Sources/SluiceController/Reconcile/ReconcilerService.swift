import Logging
import ServiceLifecycle
import SluiceCore
import SluiceStore

/// Runs the reconciler: on a timer, and at once whenever something changed. Each pass
/// reads one snapshot, decides, and applies each action in its own transaction.
public struct ReconcilerService: Service {
    let database: SluiceDatabase
    let clock: any WallClock
    let settings: ControllerSettings
    let signal: ChangeSignal
    let logger: Logger

    /// Alerts are not sent from here: the store writes each with the event that raises it,
    /// and ``AlertDelivery`` sends them (the signal after each pass wakes it).
    public init(database: SluiceDatabase, clock: any WallClock, settings: ControllerSettings, signal: ChangeSignal, logger: Logger) {
        self.database = database
        self.clock = clock
        self.settings = settings
        self.signal = signal
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let seen = signal.current
            do {
                let applied = try pass()
                if !applied.isEmpty {
                    // A halt cancels many hosts' assignments: everyone looks again. Otherwise
                    // only the hosts just started have a new assignment to see.
                    if applied.contains(where: { if case .halt = $0 { true } else if case .haltAndRevert = $0 { true } else { false } }) {
                        signal.signal()
                    } else {
                        signal.signal(hosts: applied.compactMap { if case .startAssignment(_, _, let host) = $0 { host } else { nil } })
                    }
                    continue
                }
            } catch {
                logger.error("reconcile pass failed: \(error)")
            }
            // A graceful shutdown ends the wait (a signal moves the generation past `seen`), so a
            // stop does not wait for the rest of the interval.
            await withGracefulShutdownHandler {
                await signal.wait(after: seen, timeout: .milliseconds(Int64(settings.reconcileIntervalMs)))
            } onGracefulShutdown: {
                signal.signal()
            }
        }
    }

    /// One pass. Returns the actions that changed something.
    @discardableResult
    public func pass() throws -> [ReconcileAction] {
        let now = clock.nowMs()
        let snapshot = try database.reconcileSnapshot(staleAfterMs: settings.staleAfterMs)
        var applied: [ReconcileAction] = []
        for action in Reconciler.decide(snapshot, nowMs: now) {
            // One action that fails must not keep the others (a halt elsewhere) from happening.
            do {
                guard try database.apply(action, nowMs: now) else { continue }
            } catch {
                logger.error("reconcile action \(action) failed: \(error)")
                continue
            }
            applied.append(action)
            switch action {
            case .halt(let rollout, _, let reason):
                logger.warning("rollout \(rollout) halted: \(reason)")
            case .haltAndRevert(let rollout, _, let reason, let hosts):
                logger.warning("rollout \(rollout) halted: \(reason); reverting \(hosts.map(\.rawValue).joined(separator: ", ")) (on_failure: revert)")
            case .reportSilent(let rollout, let host, let silentFor):
                logger.warning("rollout \(rollout): host \(host) silent for \(formatDuration(ms: silentFor)); promotion blocked")
            case .expireAssignment(let rollout, _, let host, let deadline):
                logger.warning("rollout \(rollout): host \(host) has no result within the apply deadline (\(formatDuration(ms: deadline * 1000))); failed")
            default:
                logger.info("rollout: \(action)")
            }
        }
        return applied
    }
}
