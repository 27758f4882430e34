import Foundation
import Synchronization
@testable import SluiceAgent
import SluiceCore
import Testing

/// A runner that records every command and runs none: proves bad input never reaches apt.
final class RecordingRunner: CommandRunner {
    private let calls = Mutex<[[String]]>([])
    var commands: [[String]] { calls.withLock { $0 } }

    func run(_ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration) async throws -> CommandResult {
        calls.withLock { $0.append([executable] + arguments) }
        return CommandResult(status: 99, stderr: "RecordingRunner runs nothing")
    }
}

@Suite("bad apply input is refused before apt runs")
struct ApplyInputTests {
    @Test("pins with shell metacharacters or option-looking names do not decode", arguments: [
        ("resolverd=1.0;rm -rf /", "invalid version \"1.0;rm -rf /\""),
        ("resolverd=$(reboot)", "invalid version \"$(reboot)\""),
        ("resolverd=2.0-1 && curl x", "invalid version"),
        ("-oAPT::Get::AllowUnauthenticated=true", "invalid package name \"-oAPT::Get::AllowUnauthenticated\": must start with a lowercase letter or digit"),
        ("--allow-downgrades=1", "invalid package name \"--allow-downgrades\""),
        ("resolverd|sh=1", "invalid package name \"resolverd|sh\""),
        ("resolverd", "invalid package pin \"resolverd\": expected name=version"),
    ])
    func hostilePinsAreRejected(pin: String, message: String) throws {
        let json = #"{"packages":[\#(String(decoding: try JSONEncoder().encode(pin), as: UTF8.self))],"validations":[],"healthChecks":[],"preHooks":[],"postHooks":[],"allowRemovals":false,"healthDeadlineSeconds":10,"healthRetryIntervalSeconds":1}"#
        let error = #expect(throws: DecodingError.self) { try JSONDecoder().decode(ApplyInstructions.self, from: Data(json.utf8)) }
        guard case .dataCorrupted(let context) = error else { Issue.record("unexpected \(String(describing: error))"); return }
        #expect(context.debugDescription.contains(message), "\(context.debugDescription)")
        #expect(!context.debugDescription.contains("\n"))
    }

    @Test("the backend refuses bad instructions with one line and runs no command", arguments: [
        (ApplyInstructions(packages: []), "a-1", "empty package set: an assignment must name at least one name=version"),
        (ApplyInstructions(packages: [pin("resolverd=1.0-1"), pin("resolverd=2.0-1")]), "a-1",
         "package resolverd is listed twice (1.0-1 and 2.0-1); an assignment names each package once"),
        (ApplyInstructions(packages: [pin("resolverd=2.0-1")]), "../../etc", "invalid assignment id \"../../etc\""),
        (ApplyInstructions(packages: [pin("resolverd=2.0-1")], validations: [CommandSpec(argv: [])]), "a-1", "validation has an empty command"),
        (ApplyInstructions(packages: [pin("resolverd=2.0-1")], healthChecks: [.dns(server: "127.0.0.1", port: 53, name: "bad name;", allowNXDomain: false, timeoutSeconds: 1)]),
         "a-1", "invalid DNS name"),
        (ApplyInstructions(packages: [pin("resolverd=2.0-1")], healthDeadlineSeconds: 0), "a-1", "health deadline 0s"),
    ])
    func refusedBeforeApt(instructions: ApplyInstructions, assignment: String, message: String) async throws {
        let runner = RecordingRunner()
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-input-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let backend = AptBackend(configuration: .init(root: "/nonexistent-root", stateDirectory: state), runner: runner)
        let steps = StepRecorder()

        let finished = await backend.apply(instructions, assignmentID: assignment, report: steps.reporter)

        #expect(finished.outcome == .preflightFailed)
        #expect(finished.detail.contains(message), "\(finished.detail)")
        #expect(!finished.detail.contains("\n"))
        #expect(runner.commands.isEmpty)
        #expect(steps.names == [.finished])
    }
}

private func pin(_ text: String) -> PackagePin {
    try! PackagePin(parsing: text)
}
