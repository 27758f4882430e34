#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import SluiceAgent
import SluiceCore

/// One test's own Debian root: a copy of the cached chroot with the fixture repository, and
/// `resolverd` 1.0-1 installed and answering DNS on its own loopback port. Call ``remove()``
/// at the end (it stops every process still running inside the root).
struct TestRoot {
    let path: String
    let stateDirectory: String
    let port: Int

    /// Builds the root: copy, `apt-get update`, install resolverd 1.0-1, configure, start.
    /// - Parameter dnssecEnable: whether the live config keeps the `dnssec-enable` option (the incident).
    static func make(dnssecEnable: Bool = false) async throws -> TestRoot {
        let template = try await DebianChroot.template()
        let repository = try await FixtureRepository.directory()
        let base = "/var/tmp/sluice-test-roots"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let path = base + "/" + UUID().uuidString
        // /usr is hard-linked (dpkg only ever replaces files there by rename, never edits them in
        // place), the rest copied: a fresh root in a fraction of a second instead of seconds.
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        for entry in try FileManager.default.contentsOfDirectory(atPath: template) {
            try await host(["cp", entry == "usr" ? "-al" : "-a", template + "/" + entry, path + "/"])
        }
        let root = TestRoot(path: path, stateDirectory: path + ".state", port: try freeUDPPort())
        try await host(["cp", "-a", repository, path + "/srv/sluice-repo"])
        try await root.chroot(["apt-get", "update", "-q"])
        try await root.chroot(["apt-get", "install", "-y", "-q", "resolverd=1.0-1"], environment: ["DEBIAN_FRONTEND": "noninteractive"])
        var config = "# resolverd configuration (edited by the admin)\nport \(root.port)\n"
        if dnssecEnable { config += "dnssec-enable yes\n" }
        try config.write(toFile: path + "/etc/resolverd.conf", atomically: true, encoding: .utf8)
        try await root.chroot(["/etc/init.d/resolverd", "start"])
        return root
    }

    /// Runs a command inside the root.
    @discardableResult
    func chroot(_ argv: [String], environment: [String: String] = [:], allowFailure: Bool = false) async throws -> String {
        try await host(["/usr/sbin/chroot", path] + argv, environment: environment, allowFailure: allowFailure)
    }

    /// The backend under test, working on this root.
    func backend(ownUnit: String? = nil, journalObserver: (@Sendable (ApplyJournalEntry) -> Void)? = nil) -> AptBackend {
        AptBackend(
            configuration: .init(root: path, stateDirectory: stateDirectory, minimumFreeBytes: 16 << 20, lockTimeoutSeconds: 120, ownUnit: ownUnit),
            journalObserver: journalObserver)
    }

    /// The instructions of the tests: the set, `resolverd --check` as validation, and a DNS health check.
    func instructions(_ pins: [String], deadline: Int = 8) throws -> ApplyInstructions {
        ApplyInstructions(
            packages: try pins.map { try PackagePin(parsing: $0) },
            validations: [CommandSpec(argv: ["/usr/sbin/resolverd", "--check", "-c", "/etc/resolverd.conf"], timeoutSeconds: 10)],
            healthChecks: [.dns(server: "127.0.0.1", port: port, name: "health.sluice.test", allowNXDomain: false, timeoutSeconds: 1)],
            healthDeadlineSeconds: deadline, healthRetryIntervalSeconds: 1)
    }

    /// `name` to `version` and dpkg state, as `dpkg-query` shows them.
    func installed(_ name: String) async throws -> String {
        try await chroot(["dpkg-query", "-W", "-f=${Version} ${db:Status-Abbrev}", name], allowFailure: true).stripped()
    }

    /// `dpkg --audit`'s output: empty when nothing is half installed.
    func audit() async throws -> String { try await chroot(["dpkg", "--audit"], allowFailure: true).stripped() }

    /// The daemon's pid, from its pid file.
    var daemonPID: Int32? {
        (try? String(contentsOfFile: path + "/run/resolverd.pid", encoding: .utf8)).flatMap { Int32($0.stripped()) }
    }

    /// How many times a resolverd started in this root.
    var starts: [String] {
        ((try? String(contentsOfFile: path + "/var/lib/resolverd-starts", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    var hasPolicyRcD: Bool { FileManager.default.fileExists(atPath: path + "/usr/sbin/policy-rc.d") }

    /// Asks the daemon once; returns the address it answered, or `nil`.
    func ask(timeout: Duration = .seconds(1)) -> String? {
        let query = (try? DNSMessage.query(id: UInt16.random(in: 1...UInt16.max), name: "probe.sluice.test")) ?? []
        guard case .success(let bytes) = NetworkProbe.exchangeUDP(query, server: "127.0.0.1", port: port, timeout: timeout) else { return nil }
        return DNSMessage.parse(bytes)?.firstIPv4
    }

    /// Stops whatever still runs inside the root (the daemon, an orphaned apt or dpkg), then deletes it.
    func remove() {
        for _ in 0..<3 {
            let pids = processesInside()
            if pids.isEmpty { break }
            for pid in pids { kill(pid, SIGKILL) }
            usleep(200_000)
        }
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: stateDirectory)
    }

    /// Processes whose root directory is this root (`/proc/PID/root`).
    func processesInside() -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root")) == path
        }
    }
}

/// A UDP port on 127.0.0.1 that nothing uses right now.
func freeUDPPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
        }
    }
    guard bound else { throw HostCommandError(description: "cannot find a free UDP port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
