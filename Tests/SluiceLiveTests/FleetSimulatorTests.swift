import Foundation
import SluiceAPI
import SluiceClient
import SluiceCore
import SluiceSimulator
import Testing

/// The fleet simulator against a real sluiced: a few hundred agents in this process, over HTTP.
@Suite("Live: the fleet simulator")
struct FleetSimulatorTests {
    static let policy = """
        name: sim
        groups: {labels: [role, region], max_unavailable: 1}
        waves:
          - {name: test, select: {environment: test, role: dns-resolver}, strategy: all, soak: 1s}
          - {name: canary, select: {environment: production, role: dns-resolver}, strategy: one-per-group, soak: 1s, approval: manual, failure_budget: 0}
          - {name: rest, select: {environment: production, role: dns-resolver}, strategy: all, soak: 1s, failure_budget: 0}
        roles:
          dns-resolver: {}
        """

    @Test func twoHundredSimulatedAgentsEnrollReportAndTheFailingCanaryHaltsTheRollout() async throws {
        let dir = NSTemporaryDirectory() + "sluice-live-sim-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/policies", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.policy.write(toFile: dir + "/policies/sim.yaml", atomically: true, encoding: .utf8)
        let db = dir + "/sluice.sqlite"
        let admin = try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", db]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let enroll = try runProgram("sluiced", ["enroll-token", "create", "--name", "sim", "--uses", "1000", "--db", db]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let controller = try BackgroundProgram(
            "sluiced", ["--db", db, "--policies", dir + "/policies", "--port-file", dir + "/port", "--listen", "127.0.0.1:0"], logPath: dir + "/sluiced.log")
        let port = try controller.waitForFile(dir + "/port").trimmingCharacters(in: .whitespacesAndNewlines)
        let url = "http://127.0.0.1:\(port)"

        let hosts = DemoFleet.hosts(appServers: 195, brokenOutcome: .rolledBackBeforeRestart, stepDelay: .milliseconds(10))
        #expect(hosts.count == 200)
        let simulator = FleetSimulator(controller: url, enrollToken: enroll, hosts: hosts, heartbeat: .milliseconds(500))
        let clients = try await simulator.enrollAll()
        #expect(clients.count == 200)
        let fleet = Task { await simulator.run(clients: clients) }

        let ops = try SluiceHTTPClient(controller: url, token: admin)
        let listed = try await ops.listHosts().hosts
        #expect(listed.count == 200)
        #expect(listed.filter { $0.pendingSecurityUpdates == 1 }.count == 5, "the five resolvers have bind9 pending; app servers nothing")

        let id = try await ops.createRollout(CreateRolloutRequest(policy: "sim")).summary.id
        let deadline = Date().addingTimeInterval(60)
        var detail = try await ops.rollout(id)
        var approved = false
        while Date() < deadline, !detail.summary.state.isFinished {
            if !approved, detail.waves[0].state == .passed {
                _ = try await ops.decide("approve", rollout: id, DecisionRequest(wave: "canary"))
                approved = true
            }
            try await Task.sleep(for: .milliseconds(100))
            detail = try await ops.rollout(id)
        }
        await simulator.record.stop()
        fleet.cancel()

        #expect(detail.summary.state == .halted, "\(detail.summary)\n\(controller.log)")
        let states = Dictionary(uniqueKeysWithValues: detail.waves.flatMap(\.hosts).map { ($0.hostID.rawValue, $0.state) })
        #expect(states["test1"] == .succeeded)
        #expect(states["dns1.osc-fr1"] == .rolledBack)
        // The simulated agents ran exactly what the controller started: two applies, their scripted outcomes.
        let finished = await simulator.record.finished
        #expect(finished.map(\.host) == ["test1", "dns1.osc-fr1"])
        #expect(finished.map(\.outcome) == [.succeeded, .rolledBackBeforeRestart])
        // Heartbeats kept every host seen.
        let seen = try await ops.listHosts().hosts
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(seen.allSatisfy { ($0.lastSeenAtMs ?? 0) > now - 10_000 })
        _ = try controller.stop(signal: SIGKILL)
    }
}
