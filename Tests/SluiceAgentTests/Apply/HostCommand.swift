#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SluiceAgent
import Testing

/// Runs a host program with argv (no shell) for test setup, through the same
/// ``SubprocessRunner`` the agent uses, and returns its standard output.
/// - Throws: ``HostCommandError`` when it exits non-zero (unless `allowFailure`).
@discardableResult
func host(_ argv: [String], environment: [String: String] = [:], allowFailure: Bool = false, timeout: Duration = .seconds(900)) async throws -> String {
    var program = argv[0]
    if !program.hasPrefix("/") {
        let directories = HostRoot.searchPath.split(separator: ":").map(String.init)
        program = directories.map { $0 + "/" + program }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? program
    }
    var env = environment
    env["PATH"] = HostRoot.searchPath
    let result = try await SubprocessRunner().run(program, Array(argv.dropFirst()), environment: env, timeout: timeout)
    if result.status != 0 && !allowFailure {
        throw HostCommandError(description: "\(argv.joined(separator: " ")) exited \(result.status): \((result.stdout + result.stderr).suffix(2000))")
    }
    return result.stdout
}

struct HostCommandError: Error, CustomStringConvertible {
    let description: String
}

/// Whether the tests that build chroots and run dpkg in them can run here.
enum ChrootSupport {
    static var isRoot: Bool { getuid() == 0 }
    static var hasTools: Bool {
        ["/usr/sbin/debootstrap", "/usr/bin/dpkg-deb", "/usr/bin/dpkg-scanpackages", "/usr/bin/gcc", "/usr/sbin/chroot"]
            .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }
    /// Root, and debootstrap, dpkg-dev and gcc installed (`.ci/run` installs them).
    static var available: Bool { isRoot && hasTools }
    static let reason: Comment = "needs root and debootstrap, dpkg-dev, gcc (installed by .ci/run)"
}

/// An exclusive lock on a file, held while `body` runs, so parallel tests and test processes
/// build a cache once. Polls instead of blocking a thread of the cooperative pool.
func withFileLock<T>(_ path: String, _ body: () async throws -> T) async throws -> T {
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw HostCommandError(description: "cannot open \(path)") }
    defer { close(descriptor) }
    while flock(descriptor, LOCK_EX | LOCK_NB) != 0 { try await Task.sleep(for: .milliseconds(200)) }
    defer { _ = flock(descriptor, LOCK_UN) }
    return try await body()
}

/// A short stable hash (FNV-1a, 64 bit, hex) of the inputs that define a cached artefact.
func stableHash(_ parts: [String]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in parts.joined(separator: "\u{1F}").utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    return String(hash, radix: 16)
}
