import Foundation
import SluiceAPI
import SluiceCore
import Testing

/// The incident, live: a real `sluiced` with a SQLite file, five real `sluice-agent`
/// processes on the simulated backend, every decision through `sluicectl`, and the
/// controller killed with SIGKILL mid-rollout.
@Suite("Live: a rollout through sluicectl, with the controller killed mid-wave")
struct RolloutLiveTests {
    static let policy = """
        name: live
        groups: {labels: [role, region], max_unavailable: 1}
        waves:
          - {name: test, select: {environment: test}, strategy: all, soak: 2s}
          - {name: canary, select: {environment: production}, strategy: one-per-group, soak: 1s, approval: manual}
          - {name: rest, select: {environment: production}, strategy: all, soak: 1s}
        """

    static let inventory = """
        {"agentVersion": "0.1.0", "rebootRequired": false, "rebootRequiredPackages": [],
         "os": {"id": "debian", "versionID": "12", "versionCodename": "bookworm", "prettyName": "Debian GNU/Linux 12 (bookworm)"},
         "unattendedUpgrades": {"enabled": false, "detail": "disabled by Sluice"},
         "installed": [{"name": "bind9", "architecture": "amd64", "version": "1:9.18.24-1", "status": "install ok installed"}],
         "candidates": [{"name": "bind9", "architecture": "amd64", "installedVersion": "1:9.18.24-1",
                         "candidateVersion": "1:9.18.28-1~deb12u2",
                         "origins": [{"origin": "Debian", "label": "Debian-Security", "archive": "stable-security", "codename": "bookworm-security"}]}]}
        """

    struct Fleet {
        let dir: String
        let db: String
        var url: String = ""
        var port: String = ""
        var admin: String = ""
        var controller: BackgroundProgram?
        var agents: [BackgroundProgram] = []

        func ctl(_ arguments: [String]) throws -> Finished {
            try runProgram("sluicectl", arguments, environment: ["SLUICE_CONTROLLER": url, "SLUICE_TOKEN": admin])
        }

        func status(_ id: Int64) throws -> RolloutDetail {
            let result = try ctl(["rollout", "status", String(id), "--output", "json"])
            guard result.status == 0 else { throw LiveError("rollout status failed: \(result.stderr)") }
            return try JSONDecoder().decode(RolloutDetail.self, from: Data(result.stdout.utf8))
        }

        /// Polls `condition` on the rollout until it holds (60 s at most).
        func waitFor(_ id: Int64, _ what: String, _ condition: (RolloutDetail) -> Bool) throws -> RolloutDetail {
            let deadline = Date().addingTimeInterval(60)
            var last: RolloutDetail?
            while Date() < deadline {
                let detail = try status(id)
                if condition(detail) { return detail }
                last = detail
                Thread.sleep(forTimeInterval: 0.1)
            }
            throw LiveError("timed out waiting for \(what); last status: \(String(describing: last))\ncontroller log:\n\(controller?.log ?? "")")
        }

        func sql(_ query: String) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            process.arguments = [db, query]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    @Test func theFailingCanaryHaltsTheRolloutAndNoOtherResolverIsEverAssignedAcrossAControllerCrash() throws {
        let dir = NSTemporaryDirectory() + "sluice-live-rollout-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/policies", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.policy.write(toFile: dir + "/policies/live.yaml", atomically: true, encoding: .utf8)
        try Self.inventory.write(toFile: dir + "/inventory.json", atomically: true, encoding: .utf8)
        var fleet = Fleet(dir: dir, db: dir + "/sluice.sqlite")

        fleet.admin = try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", fleet.db]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let enroll = try runProgram("sluiced", ["enroll-token", "create", "--name", "fleet", "--uses", "10", "--db", fleet.db]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let serve = ["--db", fleet.db, "--policies", dir + "/policies", "--port-file", dir + "/port"]
        fleet.controller = try BackgroundProgram("sluiced", serve + ["--listen", "127.0.0.1:0"], logPath: dir + "/sluiced-1.log")
        fleet.port = try fleet.controller!.waitForFile(dir + "/port").trimmingCharacters(in: .whitespacesAndNewlines)
        fleet.url = "http://127.0.0.1:\(fleet.port)"

        let hosts: [(String, [String])] = [
            ("test1", ["environment=test", "role=dns-resolver", "region=lab"]),
            ("dns1.osc-fr1", ["environment=production", "role=dns-resolver", "region=osc-fr1"]),
            ("dns2.osc-fr1", ["environment=production", "role=dns-resolver", "region=osc-fr1"]),
            ("dns1.osc-secnum-fr1", ["environment=production", "role=dns-resolver", "region=osc-secnum-fr1"]),
            ("dns2.osc-secnum-fr1", ["environment=production", "role=dns-resolver", "region=osc-secnum-fr1"]),
        ]
        for (id, labels) in hosts {
            var arguments = [
                "--controller", fleet.url, "--host-id", id, "--state-dir", "\(dir)/\(id)", "--enroll-token", enroll,
                "--backend", "simulated", "--inventory-file", dir + "/inventory.json", "--heartbeat", "1s",
            ]
            for label in labels { arguments += ["--label", label] }
            // bind9 2:9.18.28 refuses the production resolvers' config: their validation fails.
            if id.hasPrefix("dns") { arguments += ["--simulate-outcome", "bind9=rolled-back-before-restart"] }
            fleet.agents.append(try BackgroundProgram("sluice-agent", arguments, logPath: "\(dir)/\(id).log"))
        }
        // Every host enrolled and reported its pending update.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let list = try fleet.ctl(["hosts", "list", "--output", "json"])
            if list.status == 0, let hosts = try? JSONDecoder().decode(HostList.self, from: Data(list.stdout.utf8)).hosts,
                hosts.count == 5, hosts.allSatisfy({ $0.pendingSecurityUpdates == 1 })
            {
                break
            }
            Thread.sleep(forTimeInterval: 0.1)
        }

        let created = try fleet.ctl(["rollout", "create", "--policy", "live", "--output", "json"])
        #expect(created.status == 0, "\(created.stderr)")
        let id = try JSONDecoder().decode(RolloutDetail.self, from: Data(created.stdout.utf8)).summary.id
        #expect(try fleet.ctl(["rollout", "create", "--policy", "live"]).stderr.contains("already has an open rollout"))

        // The test host applies; kill -9 the controller while its wave is under way, then restart it.
        _ = try fleet.waitFor(id, "the test host to start") { $0.waves[0].hosts.first?.state != .pending }
        let killedStatus = try fleet.controller!.stop(signal: SIGKILL)
        #expect(killedStatus != 0)
        try? FileManager.default.removeItem(atPath: dir + "/port")
        fleet.controller = try BackgroundProgram("sluiced", serve + ["--listen", "127.0.0.1:\(fleet.port)"], logPath: dir + "/sluiced-2.log")
        _ = try fleet.controller!.waitForFile(dir + "/port")

        let waiting = try fleet.waitFor(id, "the canary wave to wait for approval") { $0.waves[0].state == .passed }
        #expect(waiting.waves[1].state == .pending)
        #expect(waiting.waitingOn.contains { $0.contains("waits for approval") }, "\(waiting.waitingOn)")
        #expect(waiting.waves[1].hosts.allSatisfy { $0.state == .pending })

        // Pause, approve while paused (nothing starts), resume: every decision through sluicectl,
        // each recorded with its actor.
        #expect(try fleet.ctl(["rollout", "pause", String(id), "--reason", "checking the test host's dashboards"]).status == 0)
        #expect(try fleet.ctl(["wave", "approve", String(id), "canary"]).status == 0)
        let second = try fleet.ctl(["wave", "approve", String(id), "canary"])
        #expect(second.status != 0 && second.stderr.contains("already approved by operator:alice"), "\(second.stderr)")
        Thread.sleep(forTimeInterval: 1.5)
        let paused = try fleet.status(id)
        #expect(paused.summary.state == .paused)
        #expect(paused.waves[1].hosts.allSatisfy { $0.state == .pending }, "a host started while paused")
        #expect(try fleet.ctl(["rollout", "resume", String(id), "--reason", "dashboards fine"]).status == 0)

        // The first resolver reached refuses the new bind: validation fails, it rolls back, the rollout halts.
        let halted = try fleet.waitFor(id, "the halt") { $0.summary.state == .halted }
        #expect(halted.summary.reason?.contains("dns1.osc-fr1") == true, "\(String(describing: halted.summary.reason))")
        let states = Dictionary(uniqueKeysWithValues: halted.waves.flatMap(\.hosts).map { ($0.hostID.rawValue, $0.state) })
        #expect(states["test1"] == .succeeded)
        #expect(states["dns1.osc-fr1"] == .rolledBack)
        for other in ["dns2.osc-fr1", "dns1.osc-secnum-fr1", "dns2.osc-secnum-fr1"] {
            #expect(states[other] == .cancelled, "\(other) is \(String(describing: states[other]))")
        }
        // Nothing was lost or done twice across the crash: each host started at most once, only those two.
        let started = try fleet.sql("SELECT host_id || ':' || count(*) FROM audit_events WHERE kind = 'assignment.started' GROUP BY host_id ORDER BY host_id")
        #expect(started == "dns1.osc-fr1:1\ntest1:1")
        let decisions = try fleet.sql("SELECT kind || ' ' || actor FROM audit_events WHERE kind IN ('wave.approved', 'rollout.paused', 'rollout.resumed', 'rollout.halted') ORDER BY seq")
        #expect(decisions == "rollout.paused operator:alice\nwave.approved operator:alice\nrollout.resumed operator:alice\nrollout.halted controller")
        #expect(try fleet.sql("SELECT count(*) FROM audit_events WHERE kind = 'agent.finished' AND host_id = 'dns1.osc-fr1' AND details LIKE '%rolled-back-before-restart%'") == "1")

        for agent in fleet.agents { _ = try agent.stop(signal: SIGTERM) }
        #expect(try fleet.controller!.stop(signal: SIGTERM) == 0)
    }
}
