import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import SluiceAPI
import SluiceCore
import SluiceProcess

/// Time to halt (issue 6, benchmark 3): 10,000 agents long-poll their assignment, a rollout
/// has told every one of them to go, and one host reports a failed apply; timed from that
/// report until every long-poll has been answered with the cancellation.
struct HaltBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "halt",
        abstract: "10,000 agents long-polling: from a failing report to every agent told its assignment is cancelled.")

    @Option(help: "Agents long-polling (one more host, the canary, reports the failure).") var agents = 10_000
    @Option(help: "The long-poll's wait, seconds (at most 60).") var wait = 55

    static let policy = """
        # sluice-bench halt: the whole fleet in one wave, every host started at once; no failure allowed.
        name: halt-bench
        groups: {labels: [region], max_unavailable: 100000}
        waves:
          - {name: fleet, select: {environment: production}, strategy: all, soak: 1h, failure_budget: 0}
        """

    func validate() throws {
        guard agents > 0, (1...60).contains(wait) else { throw ValidationError("--agents must be positive and --wait between 1 and 60") }
    }

    func run() async throws {
        BenchCleanup.installSignalHandlers()
        defer { BenchCleanup.shared.run() }
        say(benchmarkMachine())
        say("open files: \(OpenFileLimit.raiseToHardLimit()?.after ?? 0) (this process)")
        let directory = try benchTemporaryDirectory("sluice-bench-halt")
        try FileManager.default.createDirectory(atPath: directory + "/policies", withIntermediateDirectories: true)
        try Self.policy.write(toFile: directory + "/policies/halt-bench.yaml", atomically: true, encoding: .utf8)

        let inventory = try BenchInventory.report(installed: 20, variant: 0)
        let (fleet, enrollSeconds) = try benchTimed {
            try BenchFleet.enroll(
                count: agents + 1, in: directory, id: { $0 == 0 ? "canary" : "agent\($0)" },
                labels: { ["environment": "production", "role": "app", "region": "region-\($0 % 100)"] }, inventory: inventory)
        }
        say(String(format: "fleet: %d hosts enrolled through the store in %.1f s", agents + 1, enrollSeconds))

        let (sluiced, port) = try startSluiced(directory: directory, databasePath: fleet.databasePath, policies: directory + "/policies")
        say("sluiced: pid \(sluiced.pid), port \(port), open files limit \(benchOpenFileLimit(pid: sluiced.pid))")
        let http = BenchHTTP(port: port, connections: 16)
        do {
            try await measure(http: http, port: port, sluiced: sluiced, fleet: fleet)
        } catch {
            await http.shutdown()
            throw error
        }
        await http.shutdown()
        sluiced.stop()
        BenchCleanup.shared.remove(directory: directory)
    }

    func measure(http: BenchHTTP, port: Int, sluiced: BenchChild, fleet: BenchFleet) async throws {
        let admin = "Bearer \(fleet.operatorToken)"
        let agents = self.agents, wait = self.wait

        // The rollout, and the reconciler starting every host.
        let created: RolloutDetail = try await call(http, .POST, "/v1/rollouts", admin, CreateRolloutRequest(policy: "halt-bench"))
        let rollout = created.summary.id
        var started: [String: Int64] = [:]
        let startSeconds = try await benchMeasureAsync {
            let deadline = ContinuousClock.now + .seconds(300)
            while ContinuousClock.now < deadline {
                let detail: RolloutDetail = try await call(http, .GET, "/v1/rollouts/\(rollout)", admin, Optional<String>.none)
                let hosts = detail.waves.flatMap(\.hosts)
                started = Dictionary(uniqueKeysWithValues: hosts.filter { $0.state == .started }.map { ($0.hostID.rawValue, $0.id) })
                if started.count == agents + 1 { return }
                try await Task.sleep(for: .milliseconds(500))
            }
            throw ValidationError("the reconciler started \(started.count) of \(agents + 1) hosts within 300 s")
        }
        say(String(format: "rollout %d: all %d assignments started by the reconciler in %.1f s", rollout, started.count, startSeconds))
        let assignments = started

        // The canary begins its apply (started -> applying).
        let canary = fleet.hosts[0]
        let canaryAssignment = assignments[canary.id]!
        let _: StepAccepted = try await call(
            http, .POST, "/v1/hosts/canary/assignments/\(canaryAssignment)/steps", canary.authorization,
            ApplyStepReport(step: .started, detail: "agent began the apply"))

        // Every other agent long-polls, knowing it was told to go.
        let requests = (1...agents).map { index -> (path: String, authorization: String) in
            let host = fleet.hosts[index]
            return ("/v1/hosts/\(host.id)/assignment?wait=\(wait)&known=\(assignments[host.id]!)-started", host.authorization)
        }
        let (polls, connectSeconds) = try benchTimed { try RawLongPolls(port: port, requests: requests) }
        defer { polls.close() }
        let answering = Task { await polls.answers(until: .now + .seconds(wait + 30)) }

        // Wait until every poll is parked in sluiced: a socket each, and sluiced quiet over a
        // second (its reconciler still runs a pass every second).
        let parkedSeconds = try await benchMeasureAsync {
            let deadline = ContinuousClock.now + .seconds(120)
            var last = ProcessSample.read(pid: sluiced.pid)!
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .seconds(1))
                let sample = ProcessSample.read(pid: sluiced.pid)!
                let busy = ProcessSample.cpu(from: last, to: sample).percent
                last = sample
                if benchSocketCount(pid: sluiced.pid) >= agents && busy < 15 { return }
            }
            throw ValidationError("the long-polls did not all park within 120 s (\(benchSocketCount(pid: sluiced.pid)) sockets in sluiced)")
        }
        let idle0 = ProcessSample.read(pid: sluiced.pid)!
        try await Task.sleep(for: .seconds(2))
        let idle1 = ProcessSample.read(pid: sluiced.pid)!
        say(
            String(
                format: "%d long-polls (wait=%d) connected in %.1f s, parked (%d sockets in sluiced) %.1f s later; sluiced idle with them: CPU %.1f %% of one core, RSS %@",
                agents, wait, connectSeconds, benchSocketCount(pid: sluiced.pid), parkedSeconds, ProcessSample.cpu(from: idle0, to: idle1).percent,
                mebibytes(idle1.rssBytes)))

        // The failing report.
        let bench0 = ProcessSample.read(pid: getpid())!
        let machine0 = MachineSample.read()
        let t0 = ContinuousClock.now
        let _: StepAccepted = try await call(
            http, .POST, "/v1/hosts/canary/assignments/\(canaryAssignment)/steps", canary.authorization,
            ApplyStepReport(
                step: .finished, detail: "validation failed with the new binaries; rolled back before any restart",
                output: "named-checkconf: option 'dnssec-enable' no longer exists", outcome: .rolledBackBeforeRestart))
        let reported = ContinuousClock.now
        let answers = await answering.value
        let after = ProcessSample.read(pid: sluiced.pid)!
        let bench1 = ProcessSample.read(pid: getpid())!
        let machine1 = MachineSample.read()
        let socketsAfter = benchSocketCount(pid: sluiced.pid)

        let all = answers.compactMap { $0 }
        let early = all.filter { $0.at < t0 }.count
        let cancelled = all.filter { $0.at >= t0 && $0.status == 200 && Self.etag($0.body) == "none" }
        let times = cancelled.map { benchSeconds($0.at - t0) * 1000 }.sorted()
        let detail: RolloutDetail = try await call(http, .GET, "/v1/rollouts/\(rollout)", admin, Optional<String>.none)
        say(
            String(
                format: "failing report answered in %.1f ms; rollout %@: %@", benchSeconds(reported - t0) * 1000, detail.summary.state.rawValue,
                detail.summary.reason ?? ""))
        say(
            String(
                format: "every agent answered: %d of %d told their assignment is cancelled (etag none); first %.1f ms, median %.1f ms, last %.1f ms after the report (target < 1000 ms)",
                cancelled.count, agents, times.first ?? 0, times.isEmpty ? 0 : times[times.count / 2], times.last ?? 0))
        say(
            String(
                format: "over the halt: sluiced CPU %.2f s, RSS %@ (peak %@); sluice-bench (the agents) CPU %.2f s", after.cpuSeconds - idle1.cpuSeconds,
                mebibytes(after.rssBytes), mebibytes(after.peakRSSBytes), bench1.cpuSeconds - bench0.cpuSeconds))
        say(
            MachineSample.line(from: machine0, to: machine1, measured: after.cpuSeconds - idle1.cpuSeconds + bench1.cpuSeconds - bench0.cpuSeconds)
                + "; sockets open in sluiced once every agent was answered: \(socketsAfter)")
        if cancelled.count != agents {
            let other = Dictionary(
                grouping: answers.map { answer in
                    answer.map { "\($0.at < t0 ? "early " : "")\($0.status) \(Self.etag($0.body))" } ?? "no answer"
                }.filter { $0 != "200 none" },
                by: { $0 }
            ).mapValues(\.count)
            say("not cancelled: \(other) (\(early) answered before the report)")
        }
    }

    static func etag(_ body: String) -> String {
        (try? JSONDecoder().decode(AssignmentPoll.self, from: Data(body.utf8)).etag) ?? String(body.prefix(300))
    }
}

/// A JSON call of the API; throws on a non-2xx answer.
func call<Body: Encodable, Answer: Decodable>(
    _ http: BenchHTTP, _ method: HTTPMethod, _ path: String, _ authorization: String, _ body: Body?
) async throws -> Answer {
    let bytes = try body.map { ByteBuffer(bytes: try JSONEncoder().encode($0)) }
    let (status, answer) = try await http.send(BenchRequest(method: method, path: path, authorization: authorization, body: bytes, kind: 0))
    guard (200..<300).contains(status) else { throw ValidationError("\(method) \(path): HTTP \(status): \(String(buffer: answer))") }
    return try JSONDecoder().decode(Answer.self, from: Data(answer.readableBytesView))
}

/// Sockets a process holds open.
func benchSocketCount(pid: Int32) -> Int {
    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
    return fds.count { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)"))?.hasPrefix("socket:") ?? false }
}

func benchMeasureAsync(_ body: () async throws -> Void) async throws -> Double {
    let start = ContinuousClock.now
    try await body()
    return benchSeconds(ContinuousClock.now - start)
}
