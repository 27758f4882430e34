import Foundation
import Logging
import ServiceLifecycle
import SluiceAPI
import SluiceClient
import SluiceCore

/// Anything that can describe the host's packages: the real dpkg/apt reader, or a fake in tests.
public protocol InventorySource: Sendable {
    func collect() async throws -> InventoryReport
}

extension SystemInventory: InventorySource {}

/// The agent's loop: enroll once, then report the inventory on an interval.
///
/// It only reads the host in this version. With no controller reachable it changes
/// nothing and retries; every failure is one log line naming what went wrong.
public struct Agent: Service {
    let configuration: AgentConfiguration
    let inventory: any InventorySource
    let backend: any PackageBackend
    let logger: Logger
    /// Report once and return, instead of looping.
    let once: Bool
    /// Runs the role's health checks for heartbeats; `nil` reports healthy (simulated hosts).
    let healthChecker: HealthChecker?
    /// Hands back start-up's pages once it is over (the real agent; not the simulator's agents).
    let trimmer: PageTrimmer?
    /// Hands the host back to unattended-upgrades when revoked or orphaned (the real agent; not simulated hosts).
    let handover: UnattendedUpgradesHandover?
    /// The wall clock, for `orphan_after`.
    let now: @Sendable () -> Date

    /// `trimStartupPages`: once started, and after each apply, unmap the clean code pages only
    /// start-up used (see `StartupPages`); for a process that is one agent, never for many in one.
    public init(
        configuration: AgentConfiguration, inventory: any InventorySource, backend: any PackageBackend, logger: Logger, once: Bool = false,
        healthChecker: HealthChecker? = nil, trimStartupPages: Bool = false, handover: UnattendedUpgradesHandover? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.handover = handover
        self.now = now
        self.trimmer = trimStartupPages ? PageTrimmer(logger: logger) : nil
        self.configuration = configuration
        self.inventory = inventory
        self.backend = backend
        self.logger = logger
        self.once = once
        self.healthChecker = healthChecker
    }

    public func run() async throws {
        let credentials = try await enrollIfNeeded()
        let client = try SluiceHTTPClient(
            controller: credentials.controller, token: credentials.token, tls: credentials.tls(controllerCA: configuration.controllerCA))
        if once {
            _ = try await report(client: client, host: credentials.hostID)
            return
        }
        let host = credentials.hostID
        let checks = RoleChecksFile(stateDirectory: configuration.stateDirectory)
        let trimmer = self.trimmer
        let runner = AssignmentRunner(client: client, host: host, backend: backend, logger: logger) { instructions in
            checks.save(instructions.healthChecks)
            await trimmer?.applied()
            // The outcome is delivered: an update of the agent's own package takes effect now.
            if OwnUnit.executableReplaced() { await Self.restartIntoNewProgram(logger: logger) }
        }
        // Recovery comes before anything else: an apply cut short by a crash is finished or
        // rolled back, and its outcome is delivered with retries like any other.
        if let recovered = await backend.recover(report: { id, step in
            guard let assignment = Int64(id) else { return }
            if step.step == .finished {
                try? await runner.deliver(assignment, step)
            } else {
                _ = try? await client.reportStep(host: host, assignment: assignment, step)
            }
        }) {
            logger.notice("recovered assignment \(recovered.assignmentID): \(recovered.finished.outcome?.rawValue ?? "?")")
        }
        // SIGTERM cancels the loops; an apply in progress runs to its end first (see AssignmentRunner).
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await runner.run() }
                group.addTask { await heartbeats(client: client, host: host, checks: checks) }
                group.addTask { try? await reports(client: client, host: host) }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Tells the controller every few seconds that this host is alive, with the result of
    /// its role's health checks (those of its last assignment): silence during a wave blocks
    /// promotion, and a failing check during a soak halts the rollout.
    ///
    /// Heartbeats are also how the agent knows it reaches its controller (an unchanged inventory
    /// is not sent): each answer or refusal goes to the ``HandoverKeeper``.
    func heartbeats(client: SluiceHTTPClient, host: HostID, checks: RoleChecksFile) async {
        var keeper = handover.map { HandoverKeeper(handover: $0, orphanAfterSeconds: configuration.orphanAfterSeconds, logger: logger, now: now()) }
        while !Task.isCancelled {
            var report = HealthReport(healthy: true, detail: "agent running; no health checks known for this host yet")
            if let healthChecker, case let list = checks.load(), !list.isEmpty {
                let results = await healthChecker.runAll(list)
                let failing = results.filter { !$0.passed }
                report = HealthReport(
                    healthy: failing.isEmpty,
                    detail: String((failing.isEmpty ? "\(results.count) check(s) passed" : failing.map(\.summary).joined(separator: "; ")).prefix(1900)))
            }
            do {
                _ = try await client.reportHealth(host: host, report)
                if let (handback, takeover) = await keeper?.reached(now: now()) {
                    await reportHandover(handback, takeover, client: client, host: host)
                }
            } catch is CancellationError {
                return  // the agent is stopping
            } catch {
                logger.warning("heartbeat failed: \(error)")
                await keeper?.failed(error, now: now())
            }
            await trimmer?.completed(.heartbeat)
            try? await Task.sleep(for: .seconds(configuration.heartbeatSeconds))
        }
    }

    /// The inventory, read on its interval and sent when it changed, its digest hourly when it
    /// did not (see `InventoryResend`): a fleet's check-ins are then heartbeats, not every
    /// host's full package list every minute.
    func reports(client: SluiceHTTPClient, host: HostID) async throws {
        var interval = configuration.reportIntervalSeconds
        var failures = 0
        var resend = InventoryResend()
        while !Task.isCancelled {
            do {
                var current = try await inventory.collect()
                current.labels = try configuredLabels()
                let delivery = try await resend.deliver(current, host: host, to: client, now: .now)
                switch delivery {
                case .notSent:
                    logger.debug("inventory unchanged since the controller accepted it; not sent again")
                case .reported(let accepted):
                    logReported(current, accepted, host: host)
                case .confirmed(let accepted):
                    logger.info("inventory unchanged since the controller accepted it; confirmed by its digest")
                    logLabelChange(accepted.labelChange, host: host)
                case .reportedAfterRefusal(let accepted):
                    logger.notice("the controller does not hold the inventory it accepted from this host (restored from a backup?); sent it in full")
                    logReported(current, accepted, host: host)
                }
                if let accepted = delivery.accepted { interval = Int64(accepted.nextReportSeconds) }
                failures = 0
                await trimmer?.completed(.inventory)
            } catch is CancellationError {
                return  // the agent is stopping
            } catch {
                failures += 1
                logger.error("report failed: \(error)")
            }
            // Back off on repeated failures, up to ten intervals, so a down controller is not hammered.
            let wait = interval * Int64(min(failures + 1, 10))
            try await Task.sleep(for: .seconds(wait))
        }
    }

    /// Returns the saved credentials, enrolling with the bootstrap token first if there are none.
    public func enrollIfNeeded() async throws -> AgentCredentials {
        let hostID = try configuration.resolvedHostID()
        if let saved = try AgentCredentials.load(stateDirectory: configuration.stateDirectory) {
            guard saved.hostID == hostID else {
                throw InvalidInput(
                    "\(AgentCredentials.path(in: configuration.stateDirectory)) belongs to host \(saved.hostID), but this agent is configured as \(hostID)")
            }
            return saved
        }
        guard let controller = configuration.controller else {
            throw InvalidInput("no controller URL: set controller in \(AgentConfiguration.defaultPath) or pass --controller")
        }
        guard let token = configuration.enrollToken, !token.isEmpty else {
            throw InvalidInput(
                "not enrolled yet and no enrollment token: create one with `sluicectl enroll-token create` and pass --enroll-token or set enroll_token_file")
        }
        let credentials = try await Enrollment.enroll(
            controller: controller, token: token, hostID: hostID, labels: configuration.labels, controllerCA: configuration.controllerCA)
        try credentials.save(stateDirectory: configuration.stateDirectory)
        logger.notice(
            "enrolled as \(hostID) with \(controller)\(credentials.clientCertificate != nil ? " (with a client certificate)" : ""); secret saved in \(AgentCredentials.path(in: configuration.stateDirectory))")
        return credentials
    }

    /// Tells the controller of an orphaned hand-back and the take-over that followed it; until
    /// it has them, the note stays and the next report tries again.
    func reportHandover(_ handback: HandbackNote, _ takeover: HandoverRecord, client: SluiceHTTPClient, host: HostID) async {
        let report = HandoverReport(
            reason: handback.reason.rawValue, handedBackAtMs: Int64(handback.handedBackAt.timeIntervalSince1970 * 1000),
            handbackDetail: String(handback.detail.prefix(1000)), takenOverAtMs: Int64(takeover.takenOverAt.timeIntervalSince1970 * 1000),
            takeoverDetail: String(takeover.summary.prefix(1000)))
        do {
            _ = try await client.reportHandover(host: host, report)
            handover?.forgetHandback()
            logger.notice("reported to the controller: handed back to unattended-upgrades at \(handback.handedBackAt), taken over again")
        } catch {
            logger.warning("cannot report the hand-back to the controller yet: \(error)")
        }
    }

    func report(client: SluiceHTTPClient, host: HostID) async throws -> ReportAccepted {
        var report = try await inventory.collect()
        report.labels = try configuredLabels()
        return try await send(report, client: client, host: host)
    }

    func send(_ report: InventoryReport, client: SluiceHTTPClient, host: HostID) async throws -> ReportAccepted {
        let accepted = try await client.reportInventory(host: host, report)
        logReported(report, accepted, host: host)
        return accepted
    }

    func logReported(_ report: InventoryReport, _ accepted: ReportAccepted, host: HostID) {
        logger.info(
            "reported \(report.installed.count) installed, \(report.candidates.count) upgradable (\(report.candidates.filter(\.isSecurity).count) security)\(accepted.changed ? ", changed" : "")"
        )
        logLabelChange(accepted.labelChange, host: host)
    }

    /// A package update replaced this program: once the apply's outcome is delivered, systemd
    /// restarts the unit into the new one (`--no-block`: the restart stops this process).
    static func restartIntoNewProgram(logger: Logger) async {
        guard let unit = OwnUnit.current() else {
            logger.warning("this agent's program was replaced by a package update, but it runs outside a systemd service: restart it to run the new version")
            return
        }
        logger.notice("this agent's program was replaced by a package update: restarting \(unit) into it")
        let result = await HostRoot(runner: SubprocessRunner()).outcome(["systemctl", "restart", "--no-block", "--", unit], timeout: .seconds(30))
        if result.status != 0 { logger.error("systemctl restart --no-block \(unit) failed: \(keyLine(result))") }
    }
}
