import Foundation
import SluiceAgent
import SluiceCore
import SluiceTestSupport
import Testing

/// The fleet lab (`scripts/fleet-lab`) driven from a test: real `sluiced` over mutual TLS,
/// real shipped agents under their systemd units in containers with their own network
/// namespaces, real apt from the lab's signed repository. Every call goes through the same
/// script an operator uses.
struct FleetLab: Sendable {
    /// One host of the lab, from the lab's `fleet` file.
    struct Host: Sendable, Equatable {
        var name: String
        var environment: String
        var role: String
        var region: String
        var suite: String
    }

    /// Root, and the tools the lab and the packages it installs need (`.ci/run` installs them).
    static let available: Bool = getuid() == 0 && PackagingTools.available
        && ["/usr/sbin/debootstrap", "/usr/bin/systemd-nspawn", "/usr/bin/apt-ftparchive", "/usr/bin/gpg", "/usr/bin/gcc", "/usr/bin/nsenter"]
            .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    static let reason: Comment =
        "the fleet lab needs root and debootstrap, systemd-container, apt-utils, gnupg, gcc, and what building the packages needs (installed by .ci/run)"

    /// The lab's directory: the script's default, so `scripts/fleet-lab down` by hand finds it.
    let directory = "/var/tmp/sluice-fleet-lab"
    let hosts: [Host]

    var production: [Host] { hosts.filter { $0.environment == "production" } }
    /// The production resolvers: their live config has the option resolverd 2.0 refuses.
    var productionResolvers: [Host] { production.filter { $0.role == "dns-resolver" } }

    /// Brings a fresh lab up (removing whatever a previous run left) from the packages this
    /// test run built: each host installs sluice-agent's and enrolls with `sluice-agent enroll`;
    /// the controller is sluiced's, set up by `sluiced init`.
    static func up(hosts: Int = 6) async throws -> FleetLab {
        let debs = try await BuiltPackages.directory.value
        // The first run builds the cached host roots (debootstrap) and fixture packages.
        let result = try await script(["up", "--hosts", String(hosts), "--debs", debs], timeout: .seconds(1200))
        guard result.status == 0 else { throw LiveError("scripts/fleet-lab up failed (\(result.status)):\n\(result.stderr.suffix(6000))") }
        let fleet = try String(contentsOfFile: "/var/tmp/sluice-fleet-lab/fleet", encoding: .utf8)
        let parsed = fleet.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.filter { $0.count == 5 }
            .map { Host(name: $0[0], environment: $0[1], role: $0[2], region: $0[3], suite: $0[4]) }
        return FleetLab(hosts: parsed)
    }

    /// Stops every container and process of the lab and removes it. With a scenario's name,
    /// its logs (each host's journal of the agent and resolverd, sluiced's log) are copied
    /// first to a directory named in the returned text, so a failure can be read afterwards.
    @discardableResult
    func down(keepingLogsOf name: String?) async -> String? {
        var kept: String?
        if let name {
            let logs = NSTemporaryDirectory() + "sluice-fleet-lab-\(name)-" + UUID().uuidString.prefix(8)
            try? FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            for host in hosts {
                let journal = try? await exec(host.name, ["journalctl", "--no-pager", "-o", "short-precise", "-u", "sluice-agent", "-u", "resolverd"])
                try? (journal?.stdout ?? "").write(toFile: logs + "/\(host.name).journal", atomically: true, encoding: .utf8)
            }
            for file in ["controller/sluiced.log", "repo/http.log", "controller/sluice.sqlite"] {
                try? FileManager.default.copyItem(atPath: directory + "/" + file, toPath: logs + "/" + (file as NSString).lastPathComponent)
            }
            kept = "the lab's logs are in \(logs)"
        }
        _ = try? await Self.script(["down"])
        return kept
    }

    /// Publishes `package` (NAME=VERSION), waits until the policy's plan holds exactly it for
    /// every host (each agent has refreshed and reported), and creates the rollout.
    func createRollout(publishing package: String) async throws -> Int64 {
        try await publish([package])
        var last: RolloutPlan?
        try await Self.poll("every host to report \(package) as a candidate", timeout: .seconds(120)) {
            let plan = try await ctlJSON(RolloutPlan.self, ["rollout", "plan", "--policy", "fleet-lab"])
            last = plan
            return plan.packages.map(\.description) == [package] && plan.waves.flatMap(\.hosts).count == hosts.count
        } describe: { "last plan: \(String(describing: last))" }
        let created = try await ctlJSON(RolloutDetail.self, ["rollout", "create", "--policy", "fleet-lab", "--package", package])
        return created.summary.id
    }

    /// `sluicectl wave approve ID WAVE`.
    func approve(_ id: Int64, _ wave: String) async throws {
        let result = try await ctl(["wave", "approve", String(id), wave, "--reason", "fleet lab"])
        guard result.status == 0 else { throw LiveError("wave approve \(id) \(wave) failed: \(result.stderr)") }
    }

    /// `scripts/fleet-lab controller kill|start`.
    func controller(_ action: String) async throws {
        let result = try await Self.script(["controller", action])
        guard result.status == 0 else { throw LiveError("controller \(action) failed: \(result.stderr)") }
    }

    /// A unit's main process id in a host, or nil when it runs none.
    func mainPID(_ host: String, _ unit: String) async throws -> String? {
        let result = try await exec(host, ["systemctl", "show", "--property=MainPID", "--value", unit])
        let pid = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return result.status == 0 && !pid.isEmpty && pid != "0" ? pid : nil
    }

    /// The lines resolverd appended in a host at each of its starts since the lab came up.
    func starts(_ host: String) async throws -> [String] {
        try await exec(host, ["cat", "/var/lib/resolverd-starts"]).stdout.split(separator: "\n").map(String.init)
    }

    /// One resolver's line of the lab's DNS probe.
    struct ProbeLine: Sendable, CustomStringConvertible {
        var host: String
        var sent = 0, answered = 0, unanswered = 0, longestGapMs = 0
        var description: String { "\(host): \(answered) of \(sent) answered, \(unanswered) unanswered, longest gap \(longestGapMs) ms" }
    }

    func startProbe() async throws {
        let result = try await Self.script(["probe", "start"])
        guard result.status == 0 else { throw LiveError("probe start failed: \(result.stderr)") }
    }

    func stopProbe() async throws -> [ProbeLine] {
        let result = try await Self.script(["probe", "stop"])
        guard result.status == 0 else { throw LiveError("probe stop failed: \(result.stderr)") }
        return result.stdout.split(separator: "\n").map { line in
            let words = line.split(separator: " ")
            var probe = ProbeLine(host: words.first.map(String.init) ?? "")
            for word in words.dropFirst(2) {
                let pair = word.split(separator: "=")
                guard pair.count == 2, let value = Int(pair[1]) else { continue }
                switch pair[0] {
                case "sent": probe.sent = value
                case "answered": probe.answered = value
                case "unanswered": probe.unanswered = value
                case "longest_gap_ms": probe.longestGapMs = value
                default: break
                }
            }
            return probe
        }
    }

    /// Probes every host's resolver for `duration`.
    func probe(for duration: Duration) async throws -> [ProbeLine] {
        try await startProbe()
        try await ContinuousClock().sleep(for: duration)
        return try await stopProbe()
    }

    /// A query on the controller's database (read only, beside the running controller).
    func sql(_ query: String) throws -> String {
        let result = try runProgram("/usr/bin/sqlite3", ["-readonly", directory + "/controller/sluice.sqlite", query])
        guard result.status == 0 else { throw LiveError("sqlite3: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `sluicectl ARGS` as the lab's admin, inside the lab network.
    func ctl(_ arguments: [String]) async throws -> Finished {
        try await Self.script(["ctl"] + arguments)
    }

    /// `sluicectl ARGS --output json`, decoded; a failure throws with sluicectl's error line.
    func ctlJSON<T: Decodable>(_ type: T.Type, _ arguments: [String]) async throws -> T {
        let result = try await ctl(arguments + ["--output", "json"])
        guard result.status == 0 else { throw LiveError("sluicectl \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(result.stdout.utf8))
        } catch {
            throw LiveError("sluicectl \(arguments.joined(separator: " ")): cannot decode \(T.self): \(error)\n\(result.stdout.prefix(2000))")
        }
    }

    /// Runs argv inside a host (its namespaces, its root), no shell.
    func exec(_ host: String, _ argv: [String]) async throws -> Finished {
        try await Self.script(["exec", host] + argv)
    }

    /// Adds fixture packages to the lab repository; every host then refreshes its lists.
    func publish(_ packages: [String]) async throws {
        let result = try await Self.script(["publish"] + packages)
        guard result.status == 0 else { throw LiveError("publish \(packages) failed: \(result.stderr)") }
    }

    /// The version of a package dpkg has installed in a host, or nil.
    func installedVersion(_ host: String, _ package: String) async throws -> String? {
        let result = try await exec(host, ["dpkg-query", "-W", "-f", "${Status} ${Version}", package])
        guard result.status == 0, result.stdout.hasPrefix("install ok installed ") else { return nil }
        return String(result.stdout.dropFirst("install ok installed ".count))
    }

    func rollout(_ id: Int64) async throws -> RolloutDetail {
        try await ctlJSON(RolloutDetail.self, ["rollout", "status", String(id)])
    }

    /// Polls the rollout until `condition` holds, up to `timeout`; the last status is in the error.
    func waitForRollout(_ id: Int64, _ what: String, timeout: Duration = .seconds(180), _ condition: (RolloutDetail) -> Bool) async throws -> RolloutDetail {
        var last: RolloutDetail?
        try await Self.poll(what, timeout: timeout) {
            let detail = try await rollout(id)
            last = detail
            return condition(detail)
        } describe: { "last status: \(last.map(Self.describe) ?? "none")" }
        return last!
    }

    /// Runs `check` until it returns true or `timeout` passes (then throws, naming `what`).
    /// The interval between checks is a polling period, never a synchronisation: each check
    /// reads the current state.
    static func poll(_ what: String, timeout: Duration, interval: Duration = .milliseconds(250),
                     _ check: () async throws -> Bool, describe: () -> String = { "" }) async throws {
        guard try await eventually(within: timeout, every: interval, check) else {
            throw LiveError("timed out after \(timeout) waiting for \(what); \(describe())")
        }
    }

    static func describe(_ detail: RolloutDetail) -> String {
        var lines = ["rollout \(detail.summary.id) \(detail.summary.state.rawValue)\(detail.summary.reason.map { ": " + $0 } ?? "")"]
        for wave in detail.waves {
            lines.append("  \(wave.name) \(wave.state.rawValue): " + wave.hosts.map { "\($0.hostID.rawValue)=\($0.state.rawValue)" }.joined(separator: " "))
        }
        lines += detail.waitingOn.map { "  waiting on: " + $0 }
        return lines.joined(separator: "\n")
    }

    /// The machine-wide lab lock (`/var/tmp/sluice-fleet-lab.lock`, flock): held from `up`
    /// to `down` by a scenario, so scenarios run from several checkouts take turns.
    struct Lock {
        let descriptor: Int32

        static func acquire(timeout: Duration = .seconds(3600)) async throws -> Lock {
            let descriptor = open("/var/tmp/sluice-fleet-lab.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw LiveError("cannot open /var/tmp/sluice-fleet-lab.lock: errno \(errno)") }
            do {
                try await poll("the fleet lab lock (another checkout's scenario is running)", timeout: timeout, interval: .seconds(1)) {
                    flock(descriptor, LOCK_EX | LOCK_NB) == 0
                }
            } catch {
                close(descriptor)
                throw error
            }
            return Lock(descriptor: descriptor)
        }

        func release() {
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
    }

    /// Runs `scripts/fleet-lab ARGS` with the agent's own command runner (swift-subprocess:
    /// argv, bounded output, the whole process group ended on timeout).
    static func script(_ arguments: [String], timeout: Duration = .seconds(600)) async throws -> Finished {
        let script = repositoryRoot.appendingPathComponent("scripts/fleet-lab").path
        let result = try await SubprocessRunner().run("/bin/bash", [script] + arguments, environment: [:], timeout: timeout)
        return Finished(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}
