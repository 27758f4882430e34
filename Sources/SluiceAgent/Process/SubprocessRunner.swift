import Subprocess
import SluiceCore
import SystemPackage

/// The real ``CommandRunner``: starts the program directly with swift-subprocess (argv,
/// never a shell), bounds what it may print, and terminates it when it runs too long.
///
/// The child runs in its own session so that a timeout reaches everything it started:
/// the whole process group gets `SIGTERM`, then `SIGKILL` after ``terminationGrace``.
public struct SubprocessRunner: CommandRunner {
    /// Default bound on standard output: 64 MiB, far above `dpkg-query -W` on a large host.
    public static let defaultStdoutLimit = 64 << 20
    /// Default bound on standard error: 1 MiB.
    public static let defaultStderrLimit = 1 << 20

    /// The most bytes of standard output accepted; more is a ``CommandError/Kind/outputTooLarge``.
    public var stdoutLimit: Int
    /// The most bytes of standard error accepted; more is a ``CommandError/Kind/outputTooLarge``.
    public var stderrLimit: Int
    /// How long a timed-out command gets between `SIGTERM` and `SIGKILL`.
    public var terminationGrace: Duration

    /// - Parameters:
    ///   - stdoutLimit: the most bytes of standard output accepted.
    ///   - stderrLimit: the most bytes of standard error accepted.
    ///   - terminationGrace: the time between `SIGTERM` and `SIGKILL` on timeout.
    public init(
        stdoutLimit: Int = SubprocessRunner.defaultStdoutLimit,
        stderrLimit: Int = SubprocessRunner.defaultStderrLimit,
        terminationGrace: Duration = .seconds(5)
    ) {
        self.stdoutLimit = stdoutLimit
        self.stderrLimit = stderrLimit
        self.terminationGrace = terminationGrace
    }

    /// Runs `executable` with `arguments`; see ``CommandRunner/run(_:_:environment:timeout:)``.
    /// - Parameters:
    ///   - executable: a name looked up on `PATH`, or an absolute path.
    ///   - arguments: the arguments, not including the program name.
    ///   - environment: variables added to the inherited environment (the locale is forced
    ///     to `C.UTF-8` afterwards).
    ///   - timeout: how long the command may run before it is terminated.
    /// - Throws: ``CommandError``.
    public func run(
        _ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration
    ) async throws -> CommandResult {
        let configuration = try configuration(executable, arguments, environment: environment)
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            group.addTask { .finished(try await self.execute(configuration, name: executable)) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return .timedOut
            }
            // The first child to finish decides; cancelling the other either stops the timer
            // or makes Subprocess run the teardown sequence on the child process.
            let first = try await group.next()
            group.cancelAll()
            switch first {
            case .finished(let result):
                return result
            case .timedOut, nil:
                // Wait for the teardown to finish so no process outlives this call.
                while (try? await group.next()) != nil {}
                throw CommandError(
                    command: executable, kind: .timedOut,
                    description: "\(executable) timed out after \(timeout.shortDescription)"
                )
            }
        }
    }

    private enum Outcome: Sendable {
        case finished(CommandResult)
        case timedOut
    }

    private func configuration(
        _ executable: String, _ arguments: [String], environment: [String: String]
    ) throws(CommandError) -> Configuration {
        let target: Executable
        if executable.hasPrefix("/") {
            target = .path(FilePath(executable))
        } else if executable.isEmpty || executable.contains("/") {
            throw CommandError(
                command: executable, kind: .notFound,
                description: "cannot run \(quoted(executable)): give a name to look up on PATH or an absolute path"
            )
        } else {
            target = .name(executable)
        }
        var overrides: [Environment.Key: String?] = [:]
        for (key, value) in environment {
            guard let key = Environment.Key(rawValue: key) else { continue }
            overrides[key] = value
        }
        for (key, value) in CommandLocale.fixed {
            if let key = Environment.Key(rawValue: key) { overrides[key] = value }
        }
        for key in CommandLocale.removed {
            if let key = Environment.Key(rawValue: key) { overrides[key] = String?.none }
        }
        var options = PlatformOptions()
        options.createSession = true
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: terminationGrace)]
        return Configuration(
            executable: target, arguments: Arguments(arguments), environment: .inherit.updating(overrides),
            platformOptions: options
        )
    }

    private func execute(_ configuration: Configuration, name: String) async throws -> CommandResult {
        let result: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
        do {
            result = try await Subprocess.run(
                configuration, input: .none, output: .string(limit: stdoutLimit), error: .string(limit: stderrLimit)
            )
        } catch let error as SubprocessError {
            throw commandError(for: error, name: name)
        }
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = Int32(code)
        case .signaled(let signal): status = 128 + Int32(signal)
        }
        return CommandResult(status: status, stdout: result.standardOutput, stderr: result.standardError)
    }

    private func commandError(for error: SubprocessError, name: String) -> CommandError {
        switch error.code {
        case .executableNotFound:
            let where_ = name.hasPrefix("/") ? "no such executable file" : "not found on PATH"
            return CommandError(command: name, kind: .notFound, description: "cannot run \(quoted(name)): \(where_)")
        case .outputLimitExceeded:
            return CommandError(
                command: name, kind: .outputTooLarge,
                description: "\(name) printed more than its limit of \(Self.size(stdoutLimit)) on stdout or \(Self.size(stderrLimit)) on stderr"
            )
        default:
            return CommandError(
                command: name, kind: .launchFailed,
                description: "cannot run \(quoted(name)): \(CommandError.oneLine(error.description))"
            )
        }
    }

    /// `64 MiB`, `16 KiB` or `1000 bytes`.
    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}
