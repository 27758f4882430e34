import SluiceCore

/// What one finished command produced.
public struct CommandResult: Sendable, Equatable {
    /// The exit code, or 128 + the signal number when a signal ended the process
    /// (the shell's convention, so `SIGKILL` reads as 137).
    public var status: Int32
    /// Everything the command wrote to standard output, decoded as UTF-8 (invalid
    /// bytes become U+FFFD).
    public var stdout: String
    /// Everything the command wrote to standard error, decoded as UTF-8.
    public var stderr: String

    /// - Parameters:
    ///   - status: the exit code, or 128 + signal.
    ///   - stdout: the captured standard output.
    ///   - stderr: the captured standard error.
    public init(status: Int32, stdout: String = "", stderr: String = "") {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// The first non-blank line of standard error, trimmed, or `nil` when there is none.
    public var firstStderrLine: String? {
        stderr.split(whereSeparator: \.isNewline)
            .lazy
            .map { $0.trimmingBlanks() }
            .first { !$0.isEmpty }
    }
}

/// Runs a program with an argument vector (never through a shell) and collects its output.
///
/// Implementations inherit this process's environment, add `environment` on top, and then
/// always set `LC_ALL=C.UTF-8` and `LANG=C.UTF-8` (and unset `LANGUAGE`), so that dpkg and
/// apt print the same untranslated text on every host.
public protocol CommandRunner: Sendable {
    /// Runs `executable` with `arguments` and waits for it to finish.
    ///
    /// A non-zero exit status is a normal result, not an error: callers decide what it means.
    /// - Parameters:
    ///   - executable: a name looked up on `PATH` (`"dpkg-query"`) or an absolute path.
    ///   - arguments: the arguments, not including the program name.
    ///   - environment: variables added to the inherited environment.
    ///   - timeout: how long the command may run before it is terminated.
    /// - Throws: ``CommandError`` when the command cannot be started, runs past `timeout`
    ///   or writes more output than the runner accepts.
    func run(
        _ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration
    ) async throws -> CommandResult
}

extension CommandRunner {
    /// Runs `executable` with `arguments` and no extra environment variables.
    /// - Parameters:
    ///   - executable: a name looked up on `PATH` or an absolute path.
    ///   - arguments: the arguments, not including the program name.
    ///   - timeout: how long the command may run before it is terminated.
    public func run(_ executable: String, _ arguments: [String], timeout: Duration) async throws -> CommandResult {
        try await run(executable, arguments, environment: [:], timeout: timeout)
    }
}

/// The environment every command runs with on top of the inherited one: the C locale
/// with UTF-8, so parsers see apt's and dpkg's untranslated output.
enum CommandLocale {
    static let fixed: [String: String] = ["LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"]
    /// Unset because GNU gettext may honour it even when `LC_ALL` is set.
    static let removed: [String] = ["LANGUAGE"]
}

/// Why a command could not be run to completion, or did not succeed. The ``description`` is
/// one line that starts with the command's name, for example
/// `dpkg-query timed out after 30s` or `cannot run "apt-cache": not found on PATH`.
public struct CommandError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The executable does not exist (on `PATH`, or at the given path).
        case notFound
        /// The executable exists but could not be started.
        case launchFailed
        /// The command ran longer than its timeout and was terminated.
        case timedOut
        /// The command wrote more than the runner's limit to stdout or stderr and was terminated.
        case outputTooLarge
        /// The command finished with a status its caller treats as failure.
        case failed(status: Int32)
    }

    /// The executable as it was given to the runner.
    public let command: String
    /// What went wrong.
    public let kind: Kind
    /// The one-line message.
    public let description: String

    /// - Parameters:
    ///   - command: the executable as it was given to the runner.
    ///   - kind: what went wrong.
    ///   - description: one line saying so.
    public init(command: String, kind: Kind, description: String) {
        self.command = command
        self.kind = kind
        self.description = description
    }

    /// `<command> exited with status <n>: <first stderr line>` for a command that finished
    /// unsuccessfully; the stderr line is quoted and cut so hostile output stays on one line.
    public static func failed(_ command: String, _ result: CommandResult) -> CommandError {
        var text = "\(command) exited with status \(result.status)"
        if result.status > 128 && result.status < 128 + 65 {
            text = "\(command) was killed by signal \(result.status - 128)"
        }
        if let line = result.firstStderrLine {
            text += ": " + oneLine(line)
        }
        return CommandError(command: command, kind: .failed(status: result.status), description: text)
    }

    /// Keeps a line of foreign text printable and at most `limit` UTF-8 bytes (plus `…`);
    /// quotes it only when it needed escaping.
    static func oneLine(_ text: String, limit: Int = 200) -> String {
        let printable = text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
        guard printable else { return quoted(text, limit: max(8, limit / 8)) }
        guard text.utf8.count > limit else { return text }
        var cut = ""
        for scalar in text.unicodeScalars {
            guard cut.utf8.count + String(scalar).utf8.count <= limit else { break }
            cut.unicodeScalars.append(scalar)
        }
        return cut + "…"
    }
}

extension Duration {
    /// `30s`, `1.5s` or `250ms`: short enough for a one-line error message.
    var shortDescription: String {
        let (seconds, attoseconds) = components
        let millis = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if millis < 1000 { return "\(millis)ms" }
        if millis % 1000 == 0 { return "\(millis / 1000)s" }
        var fraction = String(millis % 1000)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(millis / 1000).\(fraction)s"
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and carriage returns.
    func trimmingBlanks() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
