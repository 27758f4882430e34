import Logging
import ServiceLifecycle
import SluiceCore
import SluiceStore

/// Automatic mode: creates rollouts for policies with a schedule, as the controller
/// (actor `controller`), so Sluice replaces unattended-upgrades' daily run. Waves whose
/// approval is manual still wait for an operator.
public struct RolloutScheduler: Service {
    let database: SluiceDatabase
    let clock: any WallClock
    let settings: ControllerSettings
    let policies: [Policy]
    let signal: ChangeSignal
    let logger: Logger

    public init(
        database: SluiceDatabase, clock: any WallClock, settings: ControllerSettings, policies: [Policy], signal: ChangeSignal, logger: Logger
    ) {
        self.database = database
        self.clock = clock
        self.settings = settings
        self.policies = policies
        self.signal = signal
        self.logger = logger
    }

    public func run() async throws {
        guard policies.contains(where: { $0.schedule != nil }) else {
            // Nothing scheduled: stay until shutdown (a service that returns early stops the group).
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { _ = try pass() } catch { logger.error("scheduler pass failed: \(error)") }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(30)) }
        }
    }

    /// One pass over the scheduled policies. Returns the ids of the rollouts it created.
    public func pass() throws -> [Int64] {
        var created: [Int64] = []
        let now = clock.nowMs()
        let scheduled = policies.filter { $0.schedule != nil }
        guard !scheduled.isEmpty else { return [] }
        // Qualifying reads candidates only; the installed packages a plan needs are read
        // only when a rollout is to be created (this runs every 30 seconds).
        let hosts = try database.fleetHosts(installedNames: [])
        for policy in scheduled {
            let packages = WavePlanner.qualifyingPackages(policy: policy, hosts: hosts)
            let (create, state) = SchedulePlanner.decide(
                policy.schedule!, state: try database.scheduleState(policy: policy.name), qualifyingDigest: SchedulePlanner.digest(of: packages),
                hasOpenRollout: try database.hasOpenRollout(policy: policy.name), nowMs: now)
            try database.saveScheduleState(policy: policy.name, state)
            guard create else { continue }
            let planned = try database.fleetHosts(installedNames: Set(packages.map(\.name.description)))
            let plan = WavePlanner.plan(policy: policy, packages: packages, hosts: planned, nowMs: now, staleAfterMs: settings.staleAfterMs)
            do {
                let id = try database.createRollout(policy: policy, plan: plan, actor: .controller, nowMs: now)
                logger.notice("scheduled rollout \(id) of policy \(policy.name): \(packages.map(\.description).joined(separator: " "))")
                created.append(id)
                signal.signal()
            } catch let error as StoreError {
                logger.warning("scheduled rollout of policy \(policy.name) not created: \(error)")
            }
        }
        return created
    }
}
