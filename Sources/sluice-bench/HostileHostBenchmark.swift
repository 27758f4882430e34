import ArgumentParser
import Foundation
import GRDB
import SluiceCore

/// Issue 22, finding 2: one compromised host, with its own valid credential, sends as much as
/// the controller lets it (health flapping with 2,000-byte details, alternating inventories of
/// the largest size allowed), while an honest host heartbeats. Prints what the hostile host
/// got accepted, the audit log it made the controller write, the controller's CPU, and the
/// honest host's heartbeat latency; then the same per hour at the default limits.
struct HostileHostBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hostile-host",
        abstract: "A compromised host at the default limits: audit bytes and controller CPU it causes, an honest host's heartbeat latency meanwhile.")

    @Option(help: "Seconds of each phase (the honest host alone, then with the hostile one).") var seconds = 30
    @Option(help: "Installed packages in each of the hostile host's inventories.") var installed = InventoryReport.maxPackages
    @Option(help: "Upgrade candidates in each of the hostile host's inventories.") var candidates = 5_000

    func run() async throws {
        BenchCleanup.installSignalHandlers()
        defer { BenchCleanup.shared.run() }
        say(benchmarkMachine())
        let directory = try benchTemporaryDirectory("sluice-bench-hostile")
        let fleet = try BenchFleet.enroll(
            count: 2, in: directory, id: { ["honest", "hostile"][$0] }, labels: { _ in ["environment": "production"] },
            inventory: try BenchInventory.report(installed: 20, variant: 0))
        let (sluiced, port) = try startSluiced(directory: directory, databasePath: fleet.databasePath)
        say("sluiced: pid \(sluiced.pid), port \(port), default limits")
        let honest = fleet.hosts[0], hostile = fleet.hosts[1]
        let inventories = (0..<2).map { Self.inventory(installed: installed, candidates: candidates, variant: $0) }
        say("hostile inventories: \(installed) installed, \(candidates) candidates, \(inventories[0].utf8.count) bytes each")

        let quiet = HeartbeatProbe(port: port, host: honest)
        quiet.run(seconds: seconds)
        say(quiet.line("honest host alone"))

        let audit0 = try AuditSize.read(fleet.databasePath)
        let cpu0 = ProcessSample.read(pid: sluiced.pid)!
        let attacker = HostileLoop(port: port, host: hostile, inventories: inventories)
        attacker.start()
        let busy = HeartbeatProbe(port: port, host: honest)
        busy.run(seconds: seconds)
        attacker.stop()
        let cpu = ProcessSample.cpu(from: cpu0, to: ProcessSample.read(pid: sluiced.pid)!)
        let audit1 = try AuditSize.read(fleet.databasePath)
        say(busy.line("honest host, hostile host sending"))
        let counts = attacker.counts
        for (route, statuses) in counts.sorted(by: { $0.key < $1.key }) {
            say("hostile \(route): " + statuses.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", "))
        }
        let health = audit1.health - audit0.health, inventory = audit1.inventory - audit0.inventory
        say(
            String(
                format: "in %d s: audit +%d health events (%d bytes), +%d inventory events (%d bytes); sluiced CPU %.2f s (%.1f %% of one core)",
                seconds, health.rows, health.bytes, inventory.rows, inventory.bytes, cpu.seconds, cpu.percent))

        // Per hour at the default limits: what the budgets let through once their bursts are
        // spent; the CPU at the pace measured (the hostile host at its full request rate).
        let reportCost = Double((inventories[0].utf8.count + (1 << 20) - 1) >> 20)
        let healthEventBytes = health.rows > 0 ? Double(health.bytes) / Double(health.rows) : 0
        let inventoryEventBytes = inventory.rows > 0 ? Double(inventory.bytes) / Double(inventory.rows) : 0
        let healthEventsPerHour = 60.0, reportsPerHour = 60.0 / reportCost
        let requests = counts.values.reduce(0) { $0 + $1.values.reduce(0, +) }
        say(
            String(
                format:
                    "per hour at the default limits: audit %.0f KB (%.0f health events of %.0f B, a minute apart after the first 4; %.0f inventory events of %.0f B, a report of %.0f MiB every %.0f min from a budget of 1 MiB a minute); sluiced CPU %.0f s at the pace measured (%d requests in %d s, %.1f a second)",
                (healthEventsPerHour * healthEventBytes + reportsPerHour * inventoryEventBytes) / 1000, healthEventsPerHour, healthEventBytes,
                reportsPerHour, inventoryEventBytes, reportCost, reportCost, cpu.seconds * 3600 / Double(seconds), requests, seconds,
                Double(requests) / Double(seconds)))
        sluiced.stop()
        BenchCleanup.shared.remove(directory: directory)
    }

    /// An inventory report's JSON with `installed` packages and `candidates` of them
    /// upgradable; the two variants differ in every candidate's version.
    static func inventory(installed: Int, candidates: Int, variant: Int) -> String {
        let origin = #"{"origin":"Debian","label":"Debian-Security","archive":"stable-security","codename":"bookworm-security","component":"main","site":"deb.debian.org"}"#
        var packages: [String] = [], upgrades: [String] = []
        for i in 0..<installed {
            packages.append(#"{"name":"hostile-package-\#(i)","architecture":"amd64","version":"1.0-\#(i % 7)","status":"install ok installed"}"#)
            if i < candidates {
                upgrades.append(
                    #"{"name":"hostile-package-\#(i)","architecture":"amd64","installedVersion":"1.0-\#(i % 7)","candidateVersion":"1.\#(variant + 1)-1","origins":[\#(origin)]}"#)
            }
        }
        return """
            {"agentVersion":"0.1.0-bench","rebootRequired":false,"rebootRequiredPackages":[],\
            "os":{"id":"debian","versionID":"12","versionCodename":"bookworm","prettyName":"Debian GNU/Linux 12 (bookworm)"},\
            "unattendedUpgrades":{"enabled":false,"detail":"disabled by Sluice"},\
            "installed":[\(packages.joined(separator: ","))],"candidates":[\(upgrades.joined(separator: ","))]}
            """
    }
}

/// Rows and bytes (every column's length, the two hashes included) of the audit log's health
/// and inventory events, read from the database file beside the running controller.
enum AuditSize {
    struct Count {
        var rows = 0, bytes = 0
        static func - (a: Count, b: Count) -> Count { Count(rows: a.rows - b.rows, bytes: a.bytes - b.bytes) }
    }

    static func read(_ path: String) throws -> (health: Count, inventory: Count) {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            func count(_ kinds: String) throws -> Count {
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT count(*), coalesce(sum(8 + length(actor) + length(kind) + coalesce(length(host_id), 0) + coalesce(length(region), 0)
                            + length(details) + 64), 0) FROM audit_events WHERE kind IN (\(kinds))
                        """)!
                return Count(rows: row[0], bytes: row[1])
            }
            return (try count("'host.healthy', 'host.unhealthy'"), try count("'inventory.changed'"))
        }
    }
}

/// An honest host's heartbeats, one every 100 ms on a new connection, and their latency.
final class HeartbeatProbe {
    let port: Int
    let request: String
    var latencies: [Double] = []
    var failures: [String] = []

    init(port: Int, host: BenchFleet.Host) {
        self.port = port
        let body = #"{"healthy":true,"detail":"2 check(s) passed"}"#
        request =
            "PUT /v1/hosts/\(host.id)/health HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(host.authorization)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    }

    func run(seconds: Int) {
        let end = ContinuousClock.now + .seconds(seconds)
        var next = ContinuousClock.now
        while ContinuousClock.now < end {
            let start = ContinuousClock.now
            switch BenchRawRequest.send(port: port, text: request, timeoutSeconds: 15) {
            case .success(let answer) where answer.hasPrefix("HTTP/1.1 200"): latencies.append(benchSeconds(ContinuousClock.now - start))
            case .success(let answer): failures.append(String(answer.prefix(80)))
            case .failure(let error): failures.append(error.description)
            }
            next = next + .milliseconds(100)
            let pause = benchSeconds(next - ContinuousClock.now)
            if pause > 0 { Thread.sleep(forTimeInterval: pause) }
        }
    }

    func line(_ name: String) -> String {
        let sorted = latencies.sorted()
        func at(_ p: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000 }
        return String(
            format: "%@: %d heartbeats answered 200, %d failed; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms", name, latencies.count, failures.count,
            at(0.5), at(0.99), (sorted.last ?? .nan) * 1000) + (failures.isEmpty ? "" : " (first failure: \(failures[0]))")
    }
}

/// The compromised host: on its own thread, as fast as answers come, a health report that
/// flips each time (2,000-byte detail) and then the other of its two inventories.
final class HostileLoop: BenchLoopThread, @unchecked Sendable {
    let port: Int
    let host: BenchFleet.Host
    let inventories: [String]
    private let tally = BenchShared([String: [String: Int]]())

    init(port: Int, host: BenchFleet.Host, inventories: [String]) {
        self.port = port
        self.host = host
        self.inventories = inventories
    }

    /// Answers by route and status code.
    var counts: [String: [String: Int]] { tally.withLock { $0 } }

    private func request(_ path: String, _ body: String) -> String {
        "PUT \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(host.authorization)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    }

    override func loop() {
        let detail = String(repeating: "d", count: 2000)
        var round = 0
        while isRunning {
            let health = request("/v1/hosts/\(host.id)/health", #"{"healthy":\#(round % 2 == 0),"detail":"\#(detail)"}"#)
            let inventory = request("/v1/hosts/\(host.id)/inventory", inventories[round % 2])
            for (route, text) in [("health", health), ("inventory", inventory)] {
                let status: String
                switch BenchRawRequest.send(port: port, text: text, timeoutSeconds: 30) {
                case .success(let answer): status = String(answer.dropFirst("HTTP/1.1 ".count).prefix(3))
                case .failure: status = "failed"
                }
                tally.withLock { $0[route, default: [:]][status, default: 0] += 1 }
            }
            round += 1
        }
    }
}
