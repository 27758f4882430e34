import Foundation
@testable import SluiceAgent
import SluiceCore
import Testing

/// Reverts with the real apt backend in a Debian chroot: an apply that succeeded keeps the
/// .debs it replaced, and a revert assignment puts the host back on those exact versions
/// through the same held restart, validation and health checks, from the saved .deb, else
/// from apt's sources, else not at all.
@Suite("revert in a Debian chroot", .serialized, .enabled(if: ChrootSupport.available, ChrootSupport.reason))
struct RevertApplyTests {
    /// The first apply of the tests: resolverd 1.0-1 -> 2.0-1 as assignment 41, which keeps 1.0-1's .deb.
    static func updated(_ root: TestRoot) async throws {
        let finished = await root.backend().apply(try root.instructions(["resolverd=2.0-1"]), assignmentID: "41") { _ in }
        try #require(finished.outcome == .succeeded, "\(finished.detail)")
        #expect(finished.versionsBefore == ["resolverd": "1.0-1"])
        #expect(root.ask() == "127.0.0.2")
    }

    /// The revert of assignment 41: back to resolverd 1.0-1.
    static func revertInstructions(_ root: TestRoot, keep: [Int64]? = [41]) throws -> ApplyInstructions {
        var instructions = try root.instructions(["resolverd=1.0-1"])
        instructions.revertsAssignment = 41
        instructions.keepSavedFrom = keep
        return instructions
    }

    @Test func aRevertReinstallsTheSavedPreviousVersionThroughTheHeldRestartValidationAndHealth() async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        try await Self.updated(root)
        let saved = root.path + root.stateDirectory + "/rollback/41/resolverd_1.0-1_amd64.deb"
        #expect(FileManager.default.fileExists(atPath: saved), "a successful apply keeps the .debs it replaced")
        // Only the saved .deb has 1.0-1 now: the repository no longer publishes it.
        try await root.withdraw("resolverd", "1.0-1")
        let pidBefore = try #require(root.daemonPID)
        let probe = ResolverProbe(root)
        probe.start()
        let steps = StepRecorder()

        let finished = await root.backend().apply(try Self.revertInstructions(root), assignmentID: "42", report: steps.reporter)
        let tally = probe.stop()

        #expect(finished.outcome == .succeeded, "\(finished.detail)\n\(finished.output ?? "")")
        #expect(steps.names == [.started, .preflighted, .saved, .held, .installed, .validated, .restarted, .healthy, .finished])
        #expect(
            finished.detail.contains("revert of assignment 41: resolverd=1.0-1 from \(root.stateDirectory)/rollback/41/resolverd_1.0-1_amd64.deb"),
            "\(finished.detail)")
        #expect(finished.versionsBefore == ["resolverd": "2.0-1"])
        #expect(finished.versionsAfter["resolverd"] == "1.0-1")
        #expect(try await root.installed("resolverd") == "1.0-1 ii")
        #expect(try await root.audit().isEmpty)
        // Held through the install, restarted once by the agent after validation: boot, 2.0, 1.0.
        #expect(root.starts == ["start version 1", "start version 2", "start version 1"])
        #expect(root.daemonPID != pidBefore)
        #expect(root.ask() == "127.0.0.1")
        #expect(tally.sequence == ["127.0.0.2", "127.0.0.1"])
        #expect(!root.hasPolicyRcD)
        // The revert's own apply kept 2.0-1's .deb, as any successful apply does.
        #expect(FileManager.default.fileExists(atPath: root.path + root.stateDirectory + "/rollback/42/resolverd_2.0-1_amd64.deb"))
    }

    @Test func savedPackagesTheControllerNoLongerListsArePrunedAndTheRevertFallsBackToApt() async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        try await Self.updated(root)
        let rollback = root.path + root.stateDirectory + "/rollback"
        #expect(FileManager.default.fileExists(atPath: rollback + "/41"))
        // The next apply (2.0-1 -> 2.4-1) begins with 41 past its retention: its .debs go.
        var next = try root.instructions(["resolverd=2.4-1"])
        next.keepSavedFrom = []
        let second = await root.backend().apply(next, assignmentID: "43") { _ in }
        #expect(second.outcome == .succeeded, "\(second.detail)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: rollback) == ["43"], "only the apply in progress keeps its .debs")

        let finished = await root.backend().apply(try Self.revertInstructions(root, keep: [43]), assignmentID: "44") { _ in }

        #expect(finished.outcome == .succeeded, "\(finished.detail)\n\(finished.output ?? "")")
        #expect(finished.detail.contains("revert of assignment 41: resolverd=1.0-1 from apt's sources"), "\(finished.detail)")
        #expect(try await root.installed("resolverd") == "1.0-1 ii")
        #expect(root.ask() == "127.0.0.1")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: rollback)) == ["43", "44"], "43 is still listed to keep")
    }

    @Test func aRevertWhoseVersionIsNeitherSavedNorPublishedIsRefusedAndNothingChanges() async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        try await Self.updated(root)
        try FileManager.default.removeItem(atPath: root.path + root.stateDirectory + "/rollback/41")
        try await root.withdraw("resolverd", "1.0-1")
        let pidBefore = try #require(root.daemonPID)
        let steps = StepRecorder()

        let finished = await root.backend().apply(try Self.revertInstructions(root), assignmentID: "42", report: steps.reporter)

        #expect(finished.outcome == .preflightFailed)
        #expect(
            finished.detail
                == "cannot revert: resolverd=1.0-1 neither saved by assignment 41 (\(root.stateDirectory)/rollback/41) nor available from this host's apt sources; nothing was changed",
            "\(finished.detail)")
        #expect(!steps.names.contains(.saved) && !steps.names.contains(.held) && !steps.names.contains(.installed))
        #expect(try await root.installed("resolverd") == "2.0-1 ii")
        #expect(root.daemonPID == pidBefore)
        #expect(root.ask() == "127.0.0.2")
        #expect(!root.hasPolicyRcD)
    }

    @Test func aRevertMendsAHostThatIsUnhealthyOnTheNewVersion() async throws {
        let root = try await TestRoot.make()
        defer { root.remove() }
        try await Self.updated(root)
        // resolverd 2.0 died after its soak: the host is unhealthy, which stops any other apply.
        try await root.chroot(["/etc/init.d/resolverd", "stop"])
        let refused = await root.backend().apply(try root.instructions(["resolverd=2.4-1"]), assignmentID: "43") { _ in }
        #expect(refused.outcome == .unhealthyBeforeApply, "\(refused.detail)")

        let finished = await root.backend().apply(try Self.revertInstructions(root), assignmentID: "44") { _ in }

        #expect(finished.outcome == .succeeded, "\(finished.detail)\n\(finished.output ?? "")")
        #expect(finished.detail.contains("unhealthy before the revert: dns health.sluice.test"), "\(finished.detail)")
        #expect(try await root.installed("resolverd") == "1.0-1 ii")
        #expect(root.ask() == "127.0.0.1")
    }
}

extension TestRoot {
    /// Removes `name` `version` from the root's copy of the fixture repository and refreshes
    /// apt's lists, so only what the host saved still has it.
    func withdraw(_ name: String, _ version: String) async throws {
        let index = path + "/srv/sluice-repo/Packages"
        let stanzas = try String(contentsOfFile: index, encoding: .utf8).components(separatedBy: "\n\n")
        let kept = stanzas.filter { !($0.contains("Package: \(name)\n") && $0.contains("Version: \(version)\n")) }
        guard kept.count == stanzas.count - 1 else { throw HostCommandError(description: "\(name) \(version) is not once in \(index)") }
        try kept.joined(separator: "\n\n").write(toFile: index, atomically: true, encoding: .utf8)
        try await chroot(["apt-get", "update", "-q"])
    }
}
