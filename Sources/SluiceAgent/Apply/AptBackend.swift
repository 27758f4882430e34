import Foundation
import Synchronization
import SluiceCore

/// The real ``PackageBackend``: applies exact package sets with apt and dpkg, holding service
/// restarts until the new binaries are validated, and rolls back from saved .debs.
///
/// The sequence (see DESIGN.md, "How a host applies an update"), each step journaled first:
/// 1. preflight: dpkg has no unfinished work, every version is available, `apt-get -s install`
///    of the exact set succeeds (new dependencies reported, other upgrades and removals refused),
///    enough free disk, and the health checks pass before anything is touched;
/// 2. pre hooks; save the .debs of the installed versions that will change;
/// 3. hold restarts (``RestartHold``) and install non-interactively, keeping conffiles;
/// 4. run the validations while the old daemon still serves; on failure reinstall the saved
///    versions under the same hold: the service never restarted;
/// 5. release the hold, restart what it refused, check health until the deadline; on failure
///    reinstall, restart and check again;
/// 6. post hooks; report the outcome.
///
/// ## Signals
/// ``apply(_:assignmentID:report:)`` runs the sequence in an unstructured task, so cancelling
/// the caller (the agent's graceful shutdown on SIGTERM) never cancels a running apt or dpkg:
/// the caller waits until the apply has finished or rolled back. Cancellation is honoured only
/// before the install starts. Run the agent with `KillMode=mixed` and a `TimeoutStopSec`
/// longer than an apply, so systemd does not kill dpkg either.
public struct AptBackend: PackageBackend {
    /// Where and how the backend works.
    public struct Configuration: Sendable {
        /// The root to manage: `/`, or a chroot directory in tests.
        public var root: String
        /// The agent's state directory: the journal and the apply lock in it on this machine; the
        /// saved .debs (`rollback/`) and the held-restart log in the same path inside ``root``,
        /// which is the same directory when the root is `/`.
        public var stateDirectory: String
        /// Free space required on the root's `/usr`, `/var` and the state directory.
        public var minimumFreeBytes: UInt64
        /// How long apt waits for another apt or dpkg (`DPkg::Lock::Timeout`).
        public var lockTimeoutSeconds: Int
        /// How long one install (or rollback reinstall) may run.
        public var installTimeoutSeconds: Int
        /// How long one service restart may take.
        public var restartTimeoutSeconds: Int
        /// Where the kernel's boot id is read, to tell a crash from a reboot during recovery.
        public var bootIDFile: String
        /// The systemd unit the agent runs in (``OwnUnit/current()``): when an apply holds its
        /// restart (the agent's own package), the apply does not restart it, since that would
        /// end the process doing the apply; the agent restarts into the new program after it
        /// reported the outcome.
        public var ownUnit: String?

        /// - Parameters:
        ///   - root: the root to manage.
        ///   - stateDirectory: the agent's state directory.
        ///   - minimumFreeBytes: the free space required.
        ///   - lockTimeoutSeconds: how long apt waits for the dpkg lock.
        ///   - installTimeoutSeconds: how long one install may run.
        ///   - restartTimeoutSeconds: how long one restart may take.
        ///   - bootIDFile: where the kernel's boot id is read.
        ///   - ownUnit: the systemd unit the agent runs in, if any.
        public init(
            root: String = "/", stateDirectory: String = AgentConfiguration.defaultStateDirectory, minimumFreeBytes: UInt64 = 256 << 20,
            lockTimeoutSeconds: Int = 300, installTimeoutSeconds: Int = 3600, restartTimeoutSeconds: Int = 120,
            bootIDFile: String = "/proc/sys/kernel/random/boot_id", ownUnit: String? = nil
        ) {
            self.root = root
            self.stateDirectory = stateDirectory
            self.minimumFreeBytes = minimumFreeBytes
            self.lockTimeoutSeconds = lockTimeoutSeconds
            self.installTimeoutSeconds = installTimeoutSeconds
            self.restartTimeoutSeconds = restartTimeoutSeconds
            self.bootIDFile = bootIDFile
            self.ownUnit = ownUnit
        }
    }

    /// Where and how the backend works.
    public let configuration: Configuration
    let root: HostRoot
    let journal: ApplyJournal
    let clock: any WallClock

    /// - Parameters:
    ///   - configuration: where and how to work.
    ///   - runner: runs every command (argv, never a shell).
    ///   - clock: the wall clock journal entries are stamped with.
    ///   - journalObserver: called after each journal entry is on disk (fault-injection tests only).
    public init(
        configuration: Configuration = Configuration(), runner: any CommandRunner = SubprocessRunner(),
        clock: any WallClock = SystemWallClock(), journalObserver: (@Sendable (ApplyJournalEntry) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.root = HostRoot(path: configuration.root, runner: runner)
        self.journal = ApplyJournal(directory: configuration.stateDirectory, observer: journalObserver)
        self.clock = clock
    }

    var commands: AptCommands { AptCommands(lockTimeoutSeconds: configuration.lockTimeoutSeconds) }
    var health: HealthChecker { HealthChecker(root: root) }
    var hold: RestartHold { RestartHold(root: root, stateDirectory: configuration.stateDirectory) }
    var restarter: ServiceRestarter { ServiceRestarter(root: root, timeout: .seconds(configuration.restartTimeoutSeconds)) }
    var dpkgLocks: DpkgLockWaiter { DpkgLockWaiter(root: root) }
    /// The kernel's boot id now, or `nil` when it cannot be read.
    var bootID: String? {
        (try? String(contentsOfFile: configuration.bootIDFile, encoding: .utf8))?.stripped()
    }

    public func apply(_ instructions: ApplyInstructions, assignmentID: String, report: @escaping ApplyReporter) async
        -> ApplyStepReport
    {
        let cancelled = CancellationFlag()
        let backend = self
        // Unstructured on purpose: the caller's cancellation must not reach apt or dpkg.
        let task = Task { await backend.runApply(instructions, assignmentID: assignmentID, report: report, cancelled: cancelled) }
        return await withTaskCancellationHandler { await task.value } onCancel: { cancelled.set() }
    }

    public func recover(report: @escaping RecoveryReporter) async -> RecoveredApply? {
        let backend = self
        return await Task { await backend.runRecovery(report: report) }.value
    }

    public func simulate(_ pins: [PackagePin]) async -> SimulationReport {
        guard !pins.isEmpty else { return SimulationReport() }
        let result = await root.outcome(commands.simulate(pins), environment: AptCommands.environment, timeout: .seconds(300))
        guard result.status == 0 else { return SimulationReport(error: "apt-get -s install: \(keyLine(result))") }
        do {
            let plan = try AptSimulationParser.parse(result.stdout)
            return SimulationReport(
                installs: plan.installs.map { PackageChange(name: $0.name, from: $0.installedVersion, to: $0.candidateVersion) },
                removals: plan.removals.map { PackageRemoval(name: $0.name, version: $0.installedVersion) })
        } catch {
            return SimulationReport(error: "cannot read apt's simulation: \(error.description)")
        }
    }

    private func runApply(_ instructions: ApplyInstructions, assignmentID: String, report: @escaping ApplyReporter, cancelled: CancellationFlag)
        async -> ApplyStepReport
    {
        var session = ApplySession(backend: self, assignmentID: assignmentID, instructions: instructions, report: report, cancelled: cancelled)
        do { try instructions.checkForApply(assignmentID: assignmentID) } catch {
            return await session.refuse(error.message)
        }
        let lock: ApplyLock
        do { lock = try ApplyLock.acquire(in: configuration.stateDirectory) } catch { return await session.refuse(error.message) }
        defer { lock.release() }
        if let pending = journal.pending(), let first = pending.first {
            return await session.refuse("the interrupted apply of assignment \(first.assignmentID) must be recovered first")
        }
        return await session.run()
    }

    private func runRecovery(report: @escaping RecoveryReporter) async -> RecoveredApply? {
        guard let lock = try? ApplyLock.acquire(in: configuration.stateDirectory) else { return nil }
        defer { lock.release() }
        // On every start: no restart hold survives an agent that is not applying.
        hold.release()
        guard let entries = journal.pending(), let summary = JournalSummary(entries) else { return nil }
        let id = summary.assignmentID
        var session = ApplySession(
            backend: self, assignmentID: id, instructions: summary.instructions ?? ApplyInstructions(packages: []),
            report: { await report(id, $0) }, cancelled: CancellationFlag())
        let finished = await session.resume(summary)
        return RecoveredApply(assignmentID: id, finished: finished)
    }
}

/// Set when the caller of an apply is cancelled; read at the points where stopping is still safe.
final class CancellationFlag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}
