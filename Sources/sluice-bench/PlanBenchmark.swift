import ArgumentParser
import Foundation
import SluiceCore

/// Planning and reconciling at fleet scale (issue 6, benchmark 2): pure core, no I/O.
struct PlanBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "100,000 hosts in 50 regions and 20 roles: plan a rollout, and one reconcile pass with the whole fleet in flight.")

    @Option(help: "Regions.") var regions = 50
    @Option(help: "Roles.") var roles = 20
    @Option(help: "Hosts per redundancy group (region x role).") var members = 100
    @Option(help: "Repetitions; the median and the slowest are printed.") var repeats = 5

    func run() throws {
        print(benchmarkMachine())
        let now: Int64 = 1_800_000_000_000
        let amd64 = try Architecture(parsing: "amd64")
        let openssl = try PackageName(parsing: "openssl")
        let old = try DebianVersion(parsing: "3.0.15-1~deb12u1"), new = try DebianVersion(parsing: "3.0.17-1~deb12u2")
        let origin = PackageOrigin(origin: "Debian", label: "Debian-Security", archive: "stable-security", codename: "bookworm-security", component: "main")
        var hosts: [FleetHost] = []
        for region in 0..<regions {
            for role in 0..<roles {
                for member in 0..<members {
                    let environment = member == 0 && role == 0 ? "test" : "production"
                    hosts.append(
                        FleetHost(
                            id: try HostID(parsing: "h\(region)-\(role)-\(member)"),
                            labels: try Labels(validating: ["region": "r\(region)", "role": "role\(role)", "environment": environment]),
                            lastSeenAtMs: now, codename: "bookworm",
                            installed: [InstalledPackage(name: openssl, architecture: amd64, version: old, status: "install ok installed")],
                            candidates: [UpgradeCandidate(name: openssl, architecture: amd64, installedVersion: old, candidateVersion: new, origins: [origin])]))
                }
            }
        }
        let policy = Policy(
            name: "security-updates",
            waves: [
                WaveSpec(name: "test", selector: ["environment": ["test"]], strategy: .all, soakSeconds: 3600),
                WaveSpec(name: "canary", selector: ["environment": ["production"]], strategy: .onePerGroup, soakSeconds: 3600, approval: .manual),
                WaveSpec(name: "rest", selector: ["environment": ["production"]], strategy: .batches(size: .percent(10)), soakSeconds: 3600),
            ])
        print("fleet: \(hosts.count) hosts, \(regions * roles) redundancy groups")

        var plan: RolloutPlan?
        let planTimes = try (0..<repeats).map { _ in
            try benchmarkMeasure {
                let packages = WavePlanner.qualifyingPackages(policy: policy, hosts: hosts)
                plan = WavePlanner.plan(policy: policy, packages: packages, hosts: hosts, nowMs: now, staleAfterMs: 300_000)
            }
        }
        let planned = plan!
        print("plan: \(planned.waves.map { "\($0.name) \($0.hosts.count) hosts in \($0.batches.count) batches" }.joined(separator: ", "))")
        benchmarkReport("plan a rollout (qualify + waves)", planTimes, target: "< 1000 ms")

        // The whole fleet in flight: test and canary passed, the rest wave running with one
        // member of every group changing and every other host waiting.
        var assignments: [AssignmentStatus] = []
        var busy = Set<String>()
        var next: Int64 = 1
        for (w, wave) in planned.waves.enumerated() {
            for (b, batch) in wave.batches.enumerated() {
                for host in batch {
                    let state: AssignmentState =
                        w < 2 ? .succeeded : (busy.insert(host.capacityKey).inserted ? .applying : .pending)
                    assignments.append(
                        AssignmentStatus(id: next, rolloutID: 1, hostID: host.hostID, waveIndex: w, batch: b, capacityKey: host.capacityKey, state: state))
                    next += 1
                }
            }
        }
        let snapshot = ReconcileSnapshot(
            rollouts: [
                RolloutStatus(
                    id: 1, policy: policy, state: .running,
                    waves: [
                        WaveStatus(index: 0, name: "test", state: .passed), WaveStatus(index: 1, name: "canary", state: .passed, approvedBy: "operator:a"),
                        WaveStatus(index: 2, name: "rest", state: .running),
                    ])
            ],
            assignments: assignments,
            hosts: Dictionary(uniqueKeysWithValues: hosts.map { ($0.id, HostHealth(lastSeenAtMs: now, healthy: true, sinceMs: 0)) }),
            labels: Dictionary(uniqueKeysWithValues: hosts.map { ($0.id, $0.labels) }), staleAfterMs: 300_000)
        var actions = 0
        let reconcileTimes = try (0..<repeats).map { _ in
            try benchmarkMeasure { actions = Reconciler.decide(snapshot, nowMs: now).count }
        }
        print("reconcile: \(assignments.count) assignments, \(busy.count) in flight, \(actions) actions decided")
        benchmarkReport("one reconcile pass, whole fleet in flight", reconcileTimes, target: "< 1000 ms")
    }
}

/// `2 cores, 23 GiB, AMD EPYC`: from /proc on Linux.
func benchmarkMachine() -> String {
    let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
        .first { $0.hasPrefix("model name") }.map { $0.split(separator: ":", maxSplits: 1).last!.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    let memory = ProcessInfo.processInfo.physicalMemory / 1_073_741_824
    return "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(memory) GiB, \(cpu)"
}

func benchmarkMeasure(_ body: () throws -> Void) throws -> Double {
    let start = ContinuousClock.now
    try body()
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func benchmarkReport(_ what: String, _ seconds: [Double], target: String) {
    let sorted = seconds.sorted()
    let median = sorted[sorted.count / 2] * 1000, slowest = sorted.last! * 1000
    print("\(what): median \(String(format: "%.2f", median)) ms, slowest \(String(format: "%.2f", slowest)) ms over \(seconds.count) runs (target \(target))")
}
