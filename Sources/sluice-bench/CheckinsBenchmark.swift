import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import SluiceProcess

/// Agent check-ins against a real sluiced (issue 6, benchmark 1), and the same load against a
/// bare Hummingbird endpoint answering the same bytes.
struct CheckinsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkins",
        abstract:
            "10,000 agents' heartbeats, inventory reports and confirmations against a real sluiced on loopback, and against a bare Hummingbird endpoint.")

    /// What an inventory check-in whose inventory did not change sends.
    enum Unchanged: String, CaseIterable, ExpressibleByArgument {
        /// Its digest, which the controller confirms (the agent today).
        case digest
        /// The whole report again (the agent before confirmations).
        case full
    }

    @Option(help: "Simulated agents, each with its own host token.") var agents = 10_000
    @Option(help: "Requests in flight at once (and HTTP connections) in the maximum-rate runs.") var concurrency = 32
    @Option(help: "Seconds measured in each maximum-rate run.") var duration = 20
    @Option(help: "Seconds of load before each maximum-rate run is measured.") var warmup = 3
    @Option(help: "Fixed rate (check-ins per second) of the latency run against sluiced; 0 skips it.") var rate = 5000
    @Option(
        help: """
            Every Nth check-in is an inventory check-in, the others heartbeats; 0: heartbeats only. The agent sends its \
            inventory when it changed and confirms it hourly when not: with a check-in every 30 s that is about 1 in 120, \
            so 100 is on the heavy side; 7 is the agent before it skipped unchanged reports (heartbeat 10 s, a full report \
            every 60 s; with --unchanged full).
            """)
    var inventoryEvery = 100
    @Option(
        help: "Every Nth inventory check-in changes the host's pending updates (a delta: one candidate added or removed) and is a full report.")
    var changedEvery = 5
    @Option(
        help: """
            What the other inventory check-ins send: digest (the inventory's digest, which sluiced confirms, as the agent \
            does) or full (the whole unchanged report again, as the agent did before confirmations).
            """)
    var unchanged = Unchanged.digest
    @Option(help: "Installed packages in each inventory report.") var installed = 500

    func validate() throws {
        guard agents > 0, concurrency > 0, duration > 0, warmup >= 0, rate >= 0, inventoryEvery >= 0, changedEvery > 0, installed >= 2 else {
            throw ValidationError("every count must be positive (--installed at least 2)")
        }
    }

    func run() async throws {
        BenchCleanup.installSignalHandlers()
        defer { BenchCleanup.shared.run() }
        say(benchmarkMachine())
        say("open files: \(OpenFileLimit.raiseToHardLimit()?.after ?? 0) (this process)")
        let directory = try benchTemporaryDirectory("sluice-bench-checkins")

        // The fleet, enrolled through the store before sluiced opens the file.
        let inventories = [BenchInventory.buffer(installed: installed, variant: 0), BenchInventory.buffer(installed: installed, variant: 1)]
        let confirmations =
            unchanged == .digest
            ? [try BenchInventory.confirmation(installed: installed, variant: 0), try BenchInventory.confirmation(installed: installed, variant: 1)] : nil
        let inventory = try BenchInventory.report(installed: installed, variant: 0)
        let (fleet, enrollSeconds) = try benchTimed {
            try BenchFleet.enroll(
                count: agents, in: directory, id: { "agent\($0)" },
                labels: { ["environment": "production", "role": "app", "region": "region-\($0 % 20)"] }, inventory: inventory)
        }
        say(String(format: "fleet: %d hosts enrolled, inventory and health recorded through the store in %.1f s", agents, enrollSeconds))
        let report = "a full inventory report (\(installed) packages, \(inventories[0].readableBytes) bytes)"
        switch (inventoryEvery, confirmations) {
        case (0, _):
            say("check-ins: heartbeats only")
        case (_, let confirmations?):
            say(
                "check-ins: 1 in \(inventoryEvery) an inventory check-in: 1 in \(changedEvery) of those changed, \(report); the others unchanged, its digest confirmed (\(confirmations[0].readableBytes) bytes); the rest heartbeats"
            )
        case (_, nil):
            say("check-ins: 1 in \(inventoryEvery) \(report), 1 in \(changedEvery) of those changed; the others heartbeats")
        }

        let plan = CheckinPlan(
            fleet: fleet, inventories: inventories, confirmations: confirmations, inventoryEvery: inventoryEvery, changedEvery: changedEvery)
        let next: @Sendable (Int) -> BenchRequest = { plan.request($0) }

        // sluiced.
        let (sluiced, port) = try startSluiced(directory: directory, databasePath: fleet.databasePath)
        say("sluiced: pid \(sluiced.pid), port \(port), open files limit \(benchOpenFileLimit(pid: sluiced.pid))")
        let http = BenchHTTP(port: port, connections: max(concurrency, 64))
        let controller = await maximumRate(http: http, server: sluiced.pid, label: "sluiced", kinds: plan.kinds, next: next)

        var fixed: LoadResult?
        if rate > 0 {
            let a = ProcessSample.read(pid: sluiced.pid)!, m0 = MachineSample.read(), bench0 = ProcessSample.read(pid: getpid())!
            fixed = await LoadGenerator.openLoop(
                http: http, kinds: plan.kinds, rate: rate, duration: .seconds(duration), maxInFlight: 1000, firstRequest: plan.sent.value,
                next: next)
            let b = ProcessSample.read(pid: sluiced.pid)!, m1 = MachineSample.read(), bench1 = ProcessSample.read(pid: getpid())!
            say(fixed!.line("sluiced offered a fixed \(rate)/s (at most 1,000 unanswered; latency from when each request was due)"))
            printUsage("  sluiced", a, b)
            say("  " + MachineSample.line(from: m0, to: m1, measured: b.cpuSeconds - a.cpuSeconds + bench1.cpuSeconds - bench0.cpuSeconds))
        }
        await http.shutdown()
        sluiced.stop()

        // The bare endpoint, the same load.
        let bare = try BenchChild(
            try benchSibling("sluice-bench"), ["bare-server", "--port-file", directory + "/bare.port"], logPath: directory + "/bare.log")
        let barePort = try bare.waitForPort(file: directory + "/bare.port")
        let bareHTTP = BenchHTTP(port: barePort, connections: max(concurrency, 64))
        let bareResult = await maximumRate(http: bareHTTP, server: bare.pid, label: "bare Hummingbird endpoint", kinds: plan.kinds, next: next)
        await bareHTTP.shutdown()
        bare.stop()

        let ratio = controller.rate / max(bareResult.rate, 1)
        say(String(format: "ratio sluiced / bare: %.2f (target at least 0.50)", ratio))
        let p99 = (fixed ?? controller).percentiles().p99
        let achieved = fixed?.rate ?? controller.rate
        say(
            String(
                format: "goal: 5000 check-ins/s at p99 < 20 ms: %@ (%.0f/s, p99 %.2f ms%@)", achieved >= 4950 && p99 < 20 ? "met" : "missed", achieved, p99,
                fixed == nil ? ", maximum-rate run" : ", fixed-rate run"))
        BenchCleanup.shared.remove(directory: directory)
    }

    /// A warm-up, then `duration` seconds measured with `concurrency` requests in flight.
    func maximumRate(
        http: BenchHTTP, server: Int32, label: String, kinds: [String], next: @escaping @Sendable (Int) -> BenchRequest
    ) async -> LoadResult {
        if warmup > 0 {
            _ = await LoadGenerator.closedLoop(
                http: http, kinds: kinds, concurrency: concurrency, warmup: .zero, duration: .seconds(warmup), next: next)
        }
        let a = ProcessSample.read(pid: server)!, m0 = MachineSample.read(), bench0 = ProcessSample.read(pid: getpid())!
        let result = await LoadGenerator.closedLoop(
            http: http, kinds: kinds, concurrency: concurrency, warmup: .zero, duration: .seconds(duration), next: next)
        let b = ProcessSample.read(pid: server)!, m1 = MachineSample.read(), bench1 = ProcessSample.read(pid: getpid())!
        say(result.line("\(label), \(concurrency) in flight"))
        printUsage("  \(label)", a, b)
        printUsage("  sluice-bench (the load)", bench0, bench1)
        say("  " + MachineSample.line(from: m0, to: m1, measured: b.cpuSeconds - a.cpuSeconds + bench1.cpuSeconds - bench0.cpuSeconds))
        return result
    }

    func printUsage(_ label: String, _ a: ProcessSample, _ b: ProcessSample) {
        let cpu = ProcessSample.cpu(from: a, to: b)
        say(
            String(
                format: "%@: CPU %.1f s over %.1f s = %.0f %% of one core; RSS %@ at the end, peak %@", label, cpu.seconds, benchSeconds(b.at - a.at),
                cpu.percent, mebibytes(b.rssBytes), mebibytes(b.peakRSSBytes)))
    }
}

/// Which agent sends what: request n goes to agent n mod agents; every `inventoryEvery`-th
/// is an inventory check-in, every `changedEvery`-th of those flips the agent's pending
/// updates and sends the full report; the others send the digest of the inventory the agent
/// last sent (`confirmations`), or that inventory again when there are none.
final class CheckinPlan: Sendable {
    let kinds: [String]
    let fleet: BenchFleet
    let inventories: [ByteBuffer]
    /// `{"digest": ...}` of each inventory, or nil to send unchanged inventories in full.
    let confirmations: [ByteBuffer]?
    let inventoryEvery: Int
    let changedEvery: Int
    let heartbeat = ByteBuffer(string: #"{"healthy":true,"detail":"agent running; 2 check(s) passed"}"#)
    /// Which inventory each agent last sent (0 or 1): the one sluiced holds for its host once
    /// that report is answered (the fleet was enrolled with inventory 0).
    private let variants: BenchShared<[UInt8]>
    private let inventoryReports = BenchCounter()
    let sent = BenchCounter()

    init(fleet: BenchFleet, inventories: [ByteBuffer], confirmations: [ByteBuffer]?, inventoryEvery: Int, changedEvery: Int) {
        self.kinds = confirmations == nil ? ["heartbeat", "inventory"] : ["heartbeat", "inventory", "confirmation"]
        self.fleet = fleet
        self.inventories = inventories
        self.confirmations = confirmations
        self.inventoryEvery = inventoryEvery
        self.changedEvery = changedEvery
        self.variants = BenchShared([UInt8](repeating: 0, count: fleet.hosts.count))
    }

    func request(_ n: Int) -> BenchRequest {
        _ = sent.next()
        let index = n % fleet.hosts.count
        let host = fleet.hosts[index]
        guard inventoryEvery > 0, n % inventoryEvery == inventoryEvery - 1 else {
            return BenchRequest(method: .PUT, path: "/v1/hosts/\(host.id)/health", authorization: host.authorization, body: heartbeat, kind: 0)
        }
        let changed = inventoryReports.next() % changedEvery == changedEvery - 1
        let variant = variants.withLock { variants in
            if changed { variants[index] ^= 1 }
            return Int(variants[index])
        }
        // A confirmation is answered 200 only if the digest is that of the inventory sluiced
        // holds; any other answer counts as an error of the run.
        if !changed, let confirmations {
            return BenchRequest(
                method: .PUT, path: "/v1/hosts/\(host.id)/inventory/digest", authorization: host.authorization, body: confirmations[variant], kind: 2)
        }
        return BenchRequest(method: .PUT, path: "/v1/hosts/\(host.id)/inventory", authorization: host.authorization, body: inventories[variant], kind: 1)
    }
}
