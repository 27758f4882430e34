import CoreFoundation
#if canImport(Glibc)
import Glibc
#endif
import SluiceCore

/// The filesystem tree an apply works on: `/` on a real host, or a chroot (tests run the
/// real apt and dpkg in a debootstrapped one).
///
/// Commands run with argv, never a shell: directly for `/`, otherwise as
/// `/usr/sbin/chroot ROOT argv…`. Every command gets a fixed `PATH` that includes the sbin
/// directories, which dpkg's maintainer scripts need.
public struct HostRoot: Sendable {
    /// The `PATH` every command runs with.
    public static let searchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The root directory, `/` on a real host.
    public let path: String
    /// Runs the commands.
    public let runner: any CommandRunner

    /// - Parameters:
    ///   - path: the root directory (absolute); `/` on a real host.
    ///   - runner: runs the commands.
    public init(path: String = "/", runner: any CommandRunner) {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.path = trimmed
        self.runner = runner
    }

    /// Whether this is the host's own root.
    public var isSystemRoot: Bool { path == "/" }

    /// Where a path inside the root (`/usr/sbin/policy-rc.d`) is, seen from this process.
    /// - Parameter inner: an absolute path inside the root.
    public func file(_ inner: String) -> String {
        isSystemRoot ? inner : path + inner
    }

    /// Runs `argv` inside the root.
    /// - Parameters:
    ///   - argv: the program (a name looked up on ``searchPath`` or an absolute path inside the root) and its arguments.
    ///   - environment: variables added to the inherited environment.
    ///   - timeout: how long the command may run.
    /// - Throws: ``CommandError`` when the command cannot be started or runs past its timeout.
    public func run(_ argv: [String], environment: [String: String] = [:], timeout: Duration) async throws -> CommandResult {
        guard let program = argv.first, !program.isEmpty else {
            throw CommandError(command: "", kind: .notFound, description: "cannot run an empty command")
        }
        var environment = environment
        environment["PATH"] = Self.searchPath
        if isSystemRoot {
            return try await runner.run(program, Array(argv.dropFirst()), environment: environment, timeout: timeout)
        }
        return try await runner.run("/usr/sbin/chroot", [path] + argv, environment: environment, timeout: timeout)
    }

    /// Runs `argv` and turns a start failure or timeout into a result with status 127 or 124
    /// and the reason on stderr, so callers treat every failure alike.
    /// - Parameters:
    ///   - argv: the program and its arguments.
    ///   - environment: variables added to the inherited environment.
    ///   - timeout: how long the command may run.
    public func outcome(_ argv: [String], environment: [String: String] = [:], timeout: Duration) async -> CommandResult {
        do {
            return try await run(argv, environment: environment, timeout: timeout)
        } catch let error as CommandError {
            let status: Int32 = error.kind == .timedOut ? 124 : 127
            return CommandResult(status: status, stdout: "", stderr: error.description)
        } catch {
            return CommandResult(status: 127, stdout: "", stderr: "\(argv[0]): \(error)")
        }
    }

    /// Whether systemd runs this root's services (`/run/systemd/system` exists, as `sd_booted` checks).
    public var hasSystemd: Bool { isDirectory(file("/run/systemd/system")) }
}

/// Whether `path` is a directory (following symlinks).
func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

/// Whether something (anything, a dangling symlink included) is at `path`.
func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}
