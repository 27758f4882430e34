import Foundation
import Logging
import SluiceAPI
import SluiceAgent
import SluiceClient
import SluiceCore
import SluiceProcess

#if canImport(Glibc)
import Glibc
#endif

/// What the simulated fleet saw, with wall-clock times: for the demo's figures and for tests.
public actor FleetRecord {
    public struct Finished: Sendable, Equatable {
        public var host: String
        public var outcome: ApplyOutcome
        public var atMs: Int64
    }

    public private(set) var enrolled: [String] = []
    public private(set) var finished: [Finished] = []
    public private(set) var startedAtMs: [String: Int64] = [:]
    private var silent: Set<String> = []
    private var stopped = false

    public init() {}

    func enrolled(_ host: String) { enrolled.append(host) }
    func started(_ host: String) { startedAtMs[host] = nowMs() }
    func finished(_ host: String, _ outcome: ApplyOutcome) { finished.append(Finished(host: host, outcome: outcome, atMs: nowMs())) }
    func silence(_ host: String) { silent.insert(host) }
    func isSilent(_ host: String) -> Bool { silent.contains(host) }
    /// Ends the fleet's loops (and a silent host's endless apply).
    public func stop() { stopped = true }
    var isStopped: Bool { stopped }

    /// The first apply that did not succeed.
    public var firstFailure: Finished? { finished.first { $0.outcome != .succeeded } }
    public func outcome(of host: String) -> ApplyOutcome? { finished.last { $0.host == host }?.outcome }
}

func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

/// N simulated agents in one process, each speaking the real HTTP API through
/// `SluiceHTTPClient`: enroll with the enrollment token, report the scripted inventory, send
/// heartbeats, long-poll the assignment and run it through `SimulatedBackend` with the host's
/// scripted outcomes (the agent's own `AssignmentRunner` does the polling and step reports).
public struct FleetSimulator: Sendable {
    public let controller: String
    public let enrollToken: String
    public let hosts: [SimulatedHost]
    public let heartbeat: Duration
    public let record: FleetRecord
    let logger: Logger

    /// - Parameter heartbeat: each host's interval; by default one second, and longer for
    ///   fleets over 2,000 hosts (2,000 heartbeats a second in all: 5 s for 10,000 hosts).
    public init(controller: String, enrollToken: String, hosts: [SimulatedHost], heartbeat: Duration? = nil, logger: Logger? = nil) {
        self.controller = controller
        self.enrollToken = enrollToken
        self.hosts = hosts
        self.heartbeat = heartbeat ?? .milliseconds(max(1000, hosts.count / 2))
        self.record = FleetRecord()
        self.logger = logger ?? Logger(label: "sluice.simulator") { _ in SwiftLogNoOpLogHandler() }
    }

    /// Enrolls every host (a few at a time) and reports its inventory; returns each host's client.
    public func enrollAll(concurrency: Int = 16) async throws -> [String: SluiceHTTPClient] {
        OpenFileLimit.raiseToHardLimit()
        var clients: [String: SluiceHTTPClient] = [:]
        var index = 0
        while index < hosts.count {
            let slice = hosts[index..<min(index + concurrency, hosts.count)]
            index += slice.count
            try await withThrowingTaskGroup(of: (String, SluiceHTTPClient).self) { group in
                for host in slice {
                    group.addTask {
                        let bootstrap = try SluiceHTTPClient(controller: controller, token: enrollToken)
                        let labels = try Labels(validating: host.labels)
                        let response = try await bootstrap.enroll(EnrollRequest(hostID: try HostID(parsing: host.id), labels: labels))
                        let client = try SluiceHTTPClient(controller: controller, token: response.token)
                        _ = try await client.reportInventory(host: response.hostID, host.inventory)
                        _ = try await client.reportHealth(host: response.hostID, HealthReport(healthy: true, detail: "simulated host up"))
                        await record.enrolled(host.id)
                        return (host.id, client)
                    }
                }
                for try await (id, client) in group { clients[id] = client }
            }
        }
        return clients
    }

    /// Runs every host's heartbeats and assignment loop until the calling task is cancelled
    /// (or `stop()` on the record).
    public func run(clients: [String: SluiceHTTPClient]) async {
        OpenFileLimit.raiseToHardLimit()
        let heartbeat = self.heartbeat
        // One connection per host's long-poll, and a few hundred more for heartbeats: when
        // the controller is slow, heartbeats wait their turn instead of each opening a socket.
        let heartbeats = FleetGate(limit: 256)
        await withTaskGroup(of: Void.self) { group in
            for (index, host) in hosts.enumerated() {
                guard let client = clients[host.id], let id = try? HostID(parsing: host.id) else { continue }
                // Hosts start spread over the heartbeat interval, as a real fleet's agents
                // do, not 10,000 long-polls and heartbeats in the same instant.
                let offset = heartbeat * (Double(index) / Double(max(hosts.count, 1)))
                let backend = RecordingBackend(
                    host: host.id, inner: SimulatedBackend(outcomes: host.outcomes, stepDelay: host.stepDelay), record: record,
                    silentOnAssignment: host.silentOnAssignment)
                let runner = AssignmentRunner(client: client, host: id, backend: backend, logger: logger) { _ in }
                group.addTask {
                    try? await Task.sleep(for: offset)
                    await runner.run()
                }
                group.addTask {
                    try? await Task.sleep(for: offset)
                    while !Task.isCancelled, await !record.isStopped {
                        if await !record.isSilent(host.id) {
                            guard await heartbeats.acquire() else { break }
                            _ = try? await client.reportHealth(host: id, HealthReport(healthy: true, detail: "simulated host healthy"))
                            heartbeats.release()
                        }
                        try? await Task.sleep(for: heartbeat)
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled, await !record.isStopped { try? await Task.sleep(for: .milliseconds(100)) }
            }
            await group.next()
            group.cancelAll()
        }
    }
}

/// The simulated backend, recording each host's outcome; a silent host never finishes its
/// apply (until the fleet stops) and stops its heartbeats.
struct RecordingBackend: PackageBackend {
    let host: String
    let inner: SimulatedBackend
    let record: FleetRecord
    let silentOnAssignment: Bool

    func apply(_ instructions: ApplyInstructions, assignmentID: String, report: @escaping ApplyReporter) async -> ApplyStepReport {
        await record.started(host)
        if silentOnAssignment {
            await record.silence(host)
            while await !record.isStopped { try? await Task.sleep(for: .milliseconds(100)) }
            return ApplyStepReport(step: .finished, detail: "simulated: the host went silent", outcome: .failed)
        }
        let finished = await inner.apply(instructions, assignmentID: assignmentID, report: report)
        await record.finished(host, finished.outcome ?? .failed)
        return finished
    }

    func recover(report: @escaping RecoveryReporter) async -> RecoveredApply? { nil }

    func simulate(_ pins: [PackagePin]) async -> SimulationReport { await inner.simulate(pins) }
}

