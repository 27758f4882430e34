import Foundation
import Synchronization
@testable import SluiceAgent
import SluiceCore
import Testing

/// The real apt backend against real apt and dpkg in a debootstrapped root, with a real DNS
/// server fixture probed throughout. Serialized: each test has its own root, but the machine
/// has two cores and the health deadlines are real time.
@Suite("apt backend in a Debian chroot", .serialized, .enabled(if: ChrootSupport.available, ChrootSupport.reason))
struct AptBackendTests {
    @Test("v1 -> v2: installed under hold, validated, restarted once, healthy, report right")
    func upgradeSucceeds() async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        // An admin's own policy-rc.d must survive the apply untouched.
        let foreign = "#!/bin/sh\n# the admin's own policy\nexit 0\n"
        try foreign.write(toFile: root.path + "/usr/sbin/policy-rc.d", atomically: true, encoding: .utf8)
        let pidBefore = try #require(root.daemonPID)
        let probe = ResolverProbe(root)
        probe.start()
        let steps = StepRecorder()

        let finished = await root.backend().apply(try root.instructions(["resolverd=2.0-1"]), assignmentID: "a-success", report: steps.reporter)
        let tally = probe.stop()

        #expect(finished.outcome == .succeeded, "\(finished.detail)\n\(finished.output ?? "")")
        #expect(steps.names == [.started, .preflighted, .saved, .held, .installed, .validated, .restarted, .healthy, .finished])
        #expect(steps.first(.preflighted)?.detail.contains("new dependencies: resolverd-common=2.0-1") == true)
        #expect(steps.first(.saved)?.detail.contains("resolverd 1.0-1") == true)
        #expect(steps.first(.saved)?.detail.contains("in \(root.stateDirectory)/rollback/a-success") == true)
        #expect(steps.first(.restarted)?.detail == "restarted resolverd")
        #expect(finished.versionsBefore == ["resolverd": "1.0-1"])
        #expect(finished.versionsAfter == ["resolverd": "2.0-1", "resolverd-common": "2.0-1"])
        #expect(try await root.installed("resolverd") == "2.0-1 ii")
        #expect(try await root.audit().isEmpty)
        // Restarted exactly once, by the agent after validation, and the new binary answers.
        #expect(root.starts == ["start version 1", "start version 2"])
        #expect(root.daemonPID != pidBefore)
        #expect(root.ask() == "127.0.0.2")
        #expect(tally.sequence == ["127.0.0.1", "127.0.0.2"])
        #expect(try String(contentsOfFile: root.path + "/usr/sbin/policy-rc.d", encoding: .utf8) == foreign)
        #expect(!FileManager.default.fileExists(atPath: root.path + "/usr/sbin/policy-rc.d.sluice-saved"))
        // Kept for a revert: the controller's saved_package_retention decides when they go.
        #expect(FileManager.default.fileExists(atPath: root.path + root.stateDirectory + "/rollback/a-success/resolverd_1.0-1_amd64.deb"))
        #expect(root.backend().journal.entries().last?.outcome == .succeeded)
        #expect(finished.rebootRequired == false)
    }

    @Test("the agent's own unit in the set: installed under hold, not restarted by the apply, named in the report")
    func theAgentsOwnUnitIsLeftToRestartAfterTheReport() async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        let pidBefore = try #require(root.daemonPID)
        let steps = StepRecorder()
        // resolverd stands in for the agent's own unit: restarting it would end the apply's process.
        let finished = await root.backend(ownUnit: "resolverd.service").apply(
            try root.instructions(["resolverd=2.0-1"]), assignmentID: "a-own-unit", report: steps.reporter)

        #expect(finished.outcome == .succeeded, "\(finished.detail)\n\(finished.output ?? "")")
        #expect(steps.first(.restarted)?.detail == "resolverd restarts after this report (the agent's own unit)")
        #expect(finished.detail.contains("resolverd restarts after this report"), "\(finished.detail)")
        #expect(try await root.installed("resolverd") == "2.0-1 ii")
        // Installed with its restart held and never restarted during the apply: the old process serves on.
        #expect(root.starts == ["start version 1"])
        #expect(root.daemonPID == pidBefore)
    }

    @Test("the incident: v2 rejects the live config, is rolled back under hold, the same daemon answers every probe")
    func incidentRollsBackBeforeRestart() async throws {
        let root = try await TestRoot.make(dnssecEnable: true)
        defer { root.remove() }
        let pidBefore = try #require(root.daemonPID)
        let probe = ResolverProbe(root)
        probe.start()
        let steps = StepRecorder()

        let finished = await root.backend().apply(try root.instructions(["resolverd=2.0-1"]), assignmentID: "a-incident", report: steps.reporter)
        let tally = probe.stop()

        #expect(finished.outcome == .rolledBackBeforeRestart, "\(finished.detail)")
        // v2 really was installed (under the hold) before validation refused it.
        #expect(steps.first(.installed)?.versionsAfter["resolverd"] == "2.0-1")
        #expect(!steps.names.contains(.validated))
        #expect(!steps.names.contains(.restarted))
        #expect(steps.names.suffix(2) == [.rolledBack, .finished])
        #expect(finished.detail.contains("option 'dnssec-enable' no longer exists"))
        #expect(finished.output?.contains("/etc/resolverd.conf:3: option 'dnssec-enable' no longer exists") == true)
        #expect(try await root.installed("resolverd") == "1.0-1 ii")
        #expect(try await root.audit().isEmpty)
        // The same process served throughout: never restarted, and every probe was answered by v1.
        #expect(root.daemonPID == pidBefore)
        #expect(root.starts == ["start version 1"])
        #expect(tally.unanswered == 0)
        #expect(tally.answered > 10)
        #expect(tally.sequence == ["127.0.0.1"])
        #expect(!root.hasPolicyRcD)
    }

    @Test("health fails after restart: rolled back to v1, restarted, healthy again")
    func healthFailureRollsBackAfterRestart() async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        let steps = StepRecorder()

        let finished = await root.backend().apply(try root.instructions(["resolverd=2.1-1"], deadline: 3), assignmentID: "a-health", report: steps.reporter)

        #expect(finished.outcome == .rolledBackAfterRestart, "\(finished.detail)")
        #expect(finished.detail.contains("health check failed after restart: dns health.sluice.test @127.0.0.1:\(root.port)"))
        #expect(finished.output?.contains("no answer") == true)
        #expect(steps.names == [.started, .preflighted, .saved, .held, .installed, .validated, .restarted, .rolledBack, .healthy, .finished])
        #expect(try await root.installed("resolverd") == "1.0-1 ii")
        #expect(try await root.audit().isEmpty)
        #expect(root.starts == ["start version 1", "start version 2", "start version 1"])
        #expect(root.ask() == "127.0.0.1")
        #expect(!root.hasPolicyRcD)
    }

    @Test("a failing postinst: the saved version is reinstalled, nothing half-configured, the daemon never stopped")
    func failingPostinstRollsBack() async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        let pidBefore = try #require(root.daemonPID)

        let finished = await root.backend().apply(try root.instructions(["resolverd=2.2-1"]), assignmentID: "a-postinst") { _ in }

        #expect(finished.outcome == .rolledBackBeforeRestart, "\(finished.detail)")
        #expect(finished.detail.contains("install failed"))
        #expect(finished.output?.contains("cannot migrate the zone cache") == true)
        #expect(try await root.installed("resolverd") == "1.0-1 ii")
        #expect(try await root.audit().isEmpty)
        #expect(root.daemonPID == pidBefore)
        #expect(root.ask() == "127.0.0.1")
        #expect(!root.hasPolicyRcD)
    }

    @Test("refused in preflight without touching anything", arguments: [
        ("resolverd=2.3-1", "libmissing-fixture"),
        ("resolverd=9.9-1", "resolverd 9.9-1 is not available from this host's apt sources"),
    ])
    func preflightRefusals(pin: String, message: String) async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        let pidBefore = try #require(root.daemonPID)
        let steps = StepRecorder()

        let finished = await root.backend().apply(try root.instructions([pin]), assignmentID: "a-refused", report: steps.reporter)

        #expect(finished.outcome == .preflightFailed)
        #expect((finished.detail + (finished.output ?? "")).contains(message), "\(finished.detail)\n\(finished.output ?? "")")
        #expect(!steps.names.contains(.saved) && !steps.names.contains(.held))
        #expect(try await root.installed("resolverd") == "1.0-1 ii")
        #expect(root.daemonPID == pidBefore)
        #expect(!root.hasPolicyRcD)
    }

    @Test("cancelling the caller (SIGTERM's graceful shutdown) stops an apply only before the install", arguments: [
        (ApplyJournalEntry.Phase.holding, ApplyOutcome.preflightFailed, "1.0-1 ii"),
        (ApplyJournalEntry.Phase.installing, ApplyOutcome.succeeded, "2.0-1 ii"),
    ])
    func cancellation(at phase: ApplyJournalEntry.Phase, outcome: ApplyOutcome, version: String) async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        let holder = TaskHolder()
        let backend = root.backend(journalObserver: { if $0.phase == phase { holder.cancel() } })
        let instructions = try root.instructions(["resolverd=2.0-1"])
        let task = Task { await backend.apply(instructions, assignmentID: "a-cancel") { _ in } }
        holder.set(task)

        let finished = await task.value

        #expect(task.isCancelled)
        #expect(finished.outcome == outcome, "\(finished.detail)")
        #expect(try await root.installed("resolverd") == version)
        #expect(try await root.audit().isEmpty)
        #expect(!root.hasPolicyRcD)
    }

    @Test("a set that would remove a package is refused unless the policy allows removals", arguments: [false, true])
    func removals(allowed: Bool) async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        try await root.chroot(["apt-get", "install", "-y", "-q", "resolverd-legacy=1.0-1"], environment: ["DEBIAN_FRONTEND": "noninteractive"])
        var instructions = try root.instructions(["resolverd=2.4-1"])
        instructions.allowRemovals = allowed
        let steps = StepRecorder()

        let finished = await root.backend().apply(instructions, assignmentID: "a-removal", report: steps.reporter)

        if allowed {
            #expect(finished.outcome == .succeeded, "\(finished.detail)")
            #expect(steps.first(.preflighted)?.detail.contains("will remove: resolverd-legacy") == true)
            #expect(steps.first(.saved)?.detail.contains("resolverd-legacy 1.0-1") == true)
            #expect(try await !root.installed("resolverd-legacy").hasSuffix("ii"))
            #expect(try await root.installed("resolverd") == "2.4-1 ii")
        } else {
            #expect(finished.outcome == .preflightFailed)
            #expect(finished.detail == "the package set would remove resolverd-legacy 1.0-1, and the policy does not allow removals")
            #expect(try await root.installed("resolverd-legacy") == "1.0-1 ii")
            #expect(try await root.installed("resolverd") == "1.0-1 ii")
        }
    }

    @Test("a plan's simulation: new dependencies, removals and apt's refusal, read from real apt, and nothing changes")
    func simulationReportsWhatAptWouldDoWithoutChangingTheHost() async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        try await root.chroot(["apt-get", "install", "-y", "-q", "resolverd-legacy=1.0-1"], environment: ["DEBIAN_FRONTEND": "noninteractive"])
        let backend = root.backend()

        let upgrade = await backend.simulate([try PackagePin(parsing: "resolverd=2.0-1")])
        #expect(upgrade.error == nil)
        #expect(
            Set(upgrade.installs.map { "\($0.name) \($0.from?.description ?? "-") \($0.to)" }) == ["resolverd 1.0-1 2.0-1", "resolverd-common - 2.0-1"])
        #expect(upgrade.removals.isEmpty)

        let conflicting = await backend.simulate([try PackagePin(parsing: "resolverd=2.4-1")])
        #expect(conflicting.removals.map { "\($0.name) \($0.version?.description ?? "-")" } == ["resolverd-legacy 1.0-1"])

        let broken = await backend.simulate([try PackagePin(parsing: "resolverd=2.3-1")])
        let error = try #require(broken.error)
        #expect(error.hasPrefix("apt-get -s install: "), "\(error)")
        #expect(!error.contains("\n"))

        #expect(try await root.installed("resolverd") == "1.0-1 ii")
        #expect(try await root.installed("resolverd-legacy") == "1.0-1 ii")
        #expect(backend.journal.entries().isEmpty, "a simulation is not an apply")
    }

    @Test("a sick host is not touched: unhealthy before apply")
    func unhealthyHostIsNotTouched() async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        try await root.chroot(["/etc/init.d/resolverd", "stop"])

        let finished = await root.backend().apply(try root.instructions(["resolverd=2.0-1"]), assignmentID: "a-sick") { _ in }

        #expect(finished.outcome == .unhealthyBeforeApply)
        #expect(finished.detail.contains("dns health.sluice.test"))
        #expect(try await root.installed("resolverd") == "1.0-1 ii")
        #expect(try await root.installed("resolverd-common").isEmpty)
    }
}

/// Holds the task running an apply so a journal observer can cancel it from inside.
final class TaskHolder: Sendable {
    private let state = Mutex<(task: Task<ApplyStepReport, Never>?, cancelled: Bool)>((nil, false))

    func set(_ task: Task<ApplyStepReport, Never>) {
        let cancelled = state.withLock { value in
            value.task = task
            return value.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        let task = state.withLock { value in
            value.cancelled = true
            return value.task
        }
        task?.cancel()
    }
}
