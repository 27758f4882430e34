import Foundation
import SluiceAgent

/// A ``CommandRunner`` that answers from a script keyed by the exact argument vector, and
/// records every call. A command missing from the script behaves like a program that is not
/// installed.
/// (`NSLock` rather than `Mutex`, which the package's macOS 14 floor does not have.)
final class ScriptedRunner: CommandRunner, @unchecked Sendable {
    struct Call: Equatable, Sendable {
        var executable: String
        var arguments: [String]
    }

    private let responses: [[String]: CommandResult]
    private let lock = NSLock()
    private var recorded: [Call] = []

    /// - Parameter responses: `[executable] + arguments` to the result it produces.
    init(_ responses: [[String]: CommandResult]) {
        self.responses = responses
    }

    var calls: [Call] { lock.withLock { recorded } }

    func run(
        _ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration
    ) async throws -> CommandResult {
        lock.withLock { recorded.append(Call(executable: executable, arguments: arguments)) }
        guard let result = responses[[executable] + arguments] else {
            throw CommandError(
                command: executable, kind: .notFound, description: "cannot run \"\(executable)\": not found on PATH"
            )
        }
        return result
    }
}

extension CommandResult {
    /// A successful run that printed `stdout`.
    static func ok(_ stdout: String) -> CommandResult { CommandResult(status: 0, stdout: stdout + "\n", stderr: "") }
}
