#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import SluiceAgent
import SluiceCore
import Testing

/// kill -9 of the agent right after each journal entry (and in the middle of dpkg), then
/// recovery in a new process: the host ends at v1 or v2, fully configured, healthy, with no
/// `policy-rc.d` left, and the outcome says which.
@Suite("apply crash recovery", .serialized, .enabled(if: ChrootSupport.available, ChrootSupport.reason))
struct ApplyCrashRecoveryTests {
    struct KillPoint: CustomTestStringConvertible, Sendable {
        var phase: ApplyJournalEntry.Phase
        var occurrence = 1
        /// Kill while dpkg runs: when a postinst asks to restart (the hold's log gets a line).
        var duringDpkg = false
        /// A power cut: apt, dpkg and the daemon die too, and the host boots again before recovery.
        var powerLoss = false
        /// The incident's config, so validation fails and the apply rolls back.
        var incident = false
        /// v2.1, which never answers, so health fails after the restart.
        var silent = false
        /// How recovery must end.
        var expected: ApplyOutcome = .rolledBackBeforeRestart
        var testDescription: String {
            "\(phase.rawValue)#\(occurrence)" + (duringDpkg ? " during dpkg" : "") + (powerLoss ? " with power loss" : "") + (incident ? " (validation fails)" : "")
                + (silent ? " (health fails)" : "")
        }
    }

    static let killPoints: [KillPoint] = [
        // Before the install nothing changed.
        KillPoint(phase: .started, expected: .preflightFailed), KillPoint(phase: .preHooks, expected: .preflightFailed),
        KillPoint(phase: .saving, expected: .preflightFailed), KillPoint(phase: .holding, expected: .preflightFailed),
        // From the install until the hold is released the old daemon still serves: roll back, restart nothing.
        KillPoint(phase: .installing), KillPoint(phase: .installing, duringDpkg: true), KillPoint(phase: .validating),
        KillPoint(phase: .releasing),
        // A power cut in the middle of dpkg: dpkg finishes under the hold, then rollback, then restart.
        KillPoint(phase: .installing, duringDpkg: true, powerLoss: true, expected: .rolledBackAfterRestart),
        // Services restarted on v2: healthy completes the apply.
        KillPoint(phase: .restarting, expected: .succeeded), KillPoint(phase: .checking, expected: .succeeded),
        KillPoint(phase: .postHooks, expected: .succeeded),
        // An interrupted rollback is resumed.
        KillPoint(phase: .rollingBack, incident: true), KillPoint(phase: .rollingBack, duringDpkg: true, incident: true),
        KillPoint(phase: .rollingBack, silent: true, expected: .rolledBackAfterRestart),
        KillPoint(phase: .checking, occurrence: 2, silent: true, expected: .rolledBackAfterRestart),
        KillPoint(phase: .rollingBack, duringDpkg: true, powerLoss: true, silent: true, expected: .rolledBackAfterRestart),
    ]

    @Test("kill -9 at a journal step, then recover", arguments: killPoints)
    func killAndRecover(_ point: KillPoint) async throws {
        let root = try await TestRoot.make(dnssecEnable: point.incident)
        defer { root.remove() }
        var instructions = try root.instructions([point.silent ? "resolverd=2.1-1" : "resolverd=2.0-1"], deadline: 3)
        instructions.preHooks = [CommandSpec(argv: ["touch", "/var/lib/drained"])]
        instructions.postHooks = [CommandSpec(argv: ["rm", "-f", "/var/lib/drained"])]
        let file = root.stateDirectory + ".instructions.json"
        try JSONEncoder().encode(instructions).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }

        var arguments = ["apply", "--root", root.path, "--state", root.stateDirectory, "--assignment", "a-crash",
                         "--instructions", file, "--kill-at", point.phase.rawValue, "--occurrence", "\(point.occurrence)"]
        if point.duringDpkg { arguments += ["--kill-during-dpkg", "1"] }
        let bootID = root.stateDirectory + ".boot-id"
        try "boot-1\n".write(toFile: bootID, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: bootID) }
        arguments += ["--boot-id-file", bootID]
        if point.powerLoss { arguments += ["--power-loss", "1"] }
        let killed = try await runHarness(arguments)
        #expect(killed.status == 128 + SIGKILL, "the apply was not killed at \(point.testDescription): \(killed.output)")
        if point.powerLoss {
            // dpkg died mid-run: something is left unconfigured. Then the host boots: /run is
            // emptied, init starts the service on whatever binary is unpacked, a new boot id.
            #expect(try await !root.audit().isEmpty, "dpkg was not interrupted")
            try? FileManager.default.removeItem(atPath: root.path + "/run/resolverd.pid")
            try await root.chroot(["/etc/init.d/resolverd", "start"], allowFailure: true)
            try "boot-2\n".write(toFile: bootID, atomically: true, encoding: .utf8)
        }

        let recovered = try await runHarness(["recover", "--root", root.path, "--state", root.stateDirectory, "--boot-id-file", bootID])
        #expect(recovered.status == 0, "\(recovered.output)")
        let report = try JSONDecoder().decode(Recovered.self, from: Data(recovered.output.utf8))
        let outcome = try #require(report.finished.outcome)
        #expect(outcome == point.expected, "\(report.finished.detail)")
        #expect(report.assignmentID == "a-crash")

        // Never half-installed, never held, and the post hook ran (the host is not left drained).
        #expect(try await root.audit().isEmpty)
        #expect(!root.hasPolicyRcD)
        #expect(!FileManager.default.fileExists(atPath: root.path + "/var/lib/drained"))
        let version = try await root.installed("resolverd")
        if outcome == .succeeded {
            #expect(version == "2.0-1 ii")
            #expect(root.ask() == "127.0.0.2")
        } else {
            #expect(version == "1.0-1 ii", "\(outcome): \(report.finished.detail)")
            #expect(root.ask() == "127.0.0.1")
        }
        #expect(root.backend().journal.pending() == nil)
        // A second start finds nothing to do.
        let again = try await runHarness(["recover", "--root", root.path, "--state", root.stateDirectory])
        #expect(again.output.stripped() == "null")
    }

    struct Recovered: Decodable {
        var assignmentID: String
        var finished: ApplyStepReport
    }

    /// Runs the harness, with its stdout; the exit status is 128 + signal when killed.
    func runHarness(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let result = try await SubprocessRunner().run(try harnessURL().path, arguments, timeout: .seconds(600))
        if !result.stderr.isEmpty { print(result.stderr) }
        return (result.status, result.stdout)
    }

    /// The built `sluice-apply-harness`, beside the test bundle.
    func harnessURL() throws -> URL {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL { candidates.append(executable.deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for directory in candidates {
            var probe = directory
            for _ in 0..<5 {
                let file = probe.appendingPathComponent("sluice-apply-harness")
                if FileManager.default.isExecutableFile(atPath: file.path) { return file }
                probe = probe.deletingLastPathComponent()
            }
        }
        throw HostCommandError(description: "cannot find the built sluice-apply-harness near \(candidates.map(\.path))")
    }
}
