import Foundation
import SluiceAPI
import SluiceCore
import SluiceTestSupport
import Testing

/// A real rollout (controller, agents, sluicectl) whose canary resolver fails after its
/// restart; then, offline on the database file as from a backup, the postmortem.
@Suite("Live: a postmortem of a real halted rollout, from the database file")
struct AuditPostmortemCLITests {
    static let policy = """
        name: live
        groups: {labels: [role, region], max_unavailable: 1}
        waves:
          - {name: test, select: {environment: test}, strategy: all, soak: 1s}
          - {name: canary, select: {environment: production}, strategy: one-per-group, soak: 1s}
          - {name: rest, select: {environment: production}, strategy: all, soak: 1s}
        """

    @Test func thePostmortemOfAHaltedRolloutStatesWhatTheLogHolds() async throws {
        try await onOwnThread {
            let dir = NSTemporaryDirectory() + "sluice-live-postmortem-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir + "/policies", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try Self.policy.write(toFile: dir + "/policies/live.yaml", atomically: true, encoding: .utf8)
            try SimulatedFleet.inventory.write(toFile: dir + "/inventory.json", atomically: true, encoding: .utf8)
            var fleet = SimulatedFleet.Fleet(dir: dir, db: dir + "/sluice.sqlite")
            fleet.admin = try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", fleet.db]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let enroll = try runProgram("sluiced", ["enroll-token", "create", "--name", "fleet", "--uses", "10", "--db", fleet.db]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            fleet.controller = try BackgroundProgram(
                "sluiced", ["--db", fleet.db, "--policies", dir + "/policies", "--port-file", dir + "/port", "--listen", "127.0.0.1:0"],
                logPath: dir + "/sluiced.log")
            fleet.port = try fleet.controller!.waitForFile(dir + "/port").trimmingCharacters(in: .whitespacesAndNewlines)
            fleet.url = "http://127.0.0.1:\(fleet.port)"
            for (id, labels) in [
                ("test1", ["environment=test", "role=dns-resolver", "region=lab"]),
                ("dns1.osc-fr1", ["environment=production", "role=dns-resolver", "region=osc-fr1"]),
                ("dns2.osc-fr1", ["environment=production", "role=dns-resolver", "region=osc-fr1"]),
            ] {
                var arguments = [
                    "--controller", fleet.url, "--host-id", id, "--state-dir", "\(dir)/\(id)", "--enroll-token", enroll, "--backend", "simulated",
                    "--inventory-file", dir + "/inventory.json", "--heartbeat", "1s",
                ]
                for label in labels { arguments += ["--label", label] }
                // The production resolvers come back unhealthy after the restart, even after a rollback.
                if id.hasPrefix("dns") { arguments += ["--simulate-outcome", "bind9=failed"] }
                fleet.agents.append(try BackgroundProgram("sluice-agent", arguments, logPath: "\(dir)/\(id).log"))
            }
            #expect(
                try await eventually(within: .seconds(60), every: .milliseconds(100)) {
                    try fleet.sql("SELECT count(*) FROM hosts h JOIN upgrade_candidates c ON c.host_id = h.id") == "3"
                }, "the three hosts reported their candidates")
            let created = try fleet.ctl(["rollout", "create", "--policy", "live", "--output", "json"])
            #expect(created.status == 0, "\(created.stderr)")
            let id = try JSONDecoder().decode(RolloutDetail.self, from: Data(created.stdout.utf8)).summary.id
            _ = try fleet.waitFor(id, "the halt") { $0.summary.state == .halted }
            // Let the failed resolver's next heartbeat report it healthy again, then stop everything.
            #expect(
                try await eventually(within: .seconds(60), every: .milliseconds(100)) {
                    try fleet.sql("SELECT count(*) FROM audit_events WHERE kind = 'host.healthy' AND host_id = 'dns1.osc-fr1' AND seq > (SELECT seq FROM audit_events WHERE kind = 'agent.finished' AND host_id = 'dns1.osc-fr1')") != "0"
                }, "dns1.osc-fr1 reported healthy again after its failed apply")
            for agent in fleet.agents { _ = try agent.stop(signal: SIGTERM) }
            #expect(try fleet.controller!.stop(signal: SIGTERM) == 0)

            // Offline, in Paris time, as from a backup.
            let result = try runProgram("sluicectl", ["postmortem", String(id), "--db", fleet.db, "--tz", "Europe/Paris"])
            #expect(result.status == 0, "\(result.stderr)")
            let markdown = result.stdout
            let paris = try AuditTime.zone(named: "Europe/Paris")
            func ms(_ sql: String) throws -> Int64 { Int64(try fleet.sql(sql))! }
            let halted = try ms("SELECT at_ms FROM audit_events WHERE kind = 'rollout.halted'")
            let restarted = try ms("SELECT at_ms FROM audit_events WHERE kind = 'agent.restarted' AND host_id = 'dns1.osc-fr1'")
            let recorded = try ms("SELECT min(at_ms) FROM audit_events WHERE host_id = 'dns1.osc-fr1' AND (kind = 'agent.rolled-back' OR (kind = 'agent.finished' AND details NOT LIKE '%\"succeeded\"%'))")
            let healthy = try ms("SELECT min(at_ms) FROM audit_events WHERE kind = 'host.healthy' AND host_id = 'dns1.osc-fr1' AND seq > (SELECT seq FROM audit_events WHERE kind = 'agent.finished' AND host_id = 'dns1.osc-fr1')")
            for expected in [
                "# Postmortem: rollout \(id) (live), bind9=1:9.18.28-1~deb12u2",
                "| Rollout halted | \(AuditTime.short(halted, in: paris))",
                "| First failure began | \(AuditTime.short(restarted, in: paris))",
                "| Controller recorded it | \(AuditTime.short(recorded, in: paris))",
                "| dns-resolver@osc-fr1 | 2 (dns1.osc-fr1, dns2.osc-fr1) | 1 of 2 | \(AuditTime.duration(healthy - restarted)) | 0 |",
                "### dns1.osc-fr1: failed, ",
                "| \(AuditTime.duration(recorded - restarted)) |",
                "| \(AuditTime.duration(halted - restarted)) |",
                "| operator:alice | created the rollout |",
                "halted the rollout | wave canary: 1 host(s) failed (dns1.osc-fr1), budget 0 |",
            ] {
                #expect(markdown.contains(expected), "missing: \(expected)\n\(markdown)")
            }
            let agentEvents = try runProgram("sluicectl", ["audit", "--db", fleet.db, "--rollout", String(id), "--kind", "agent.*", "--format", "json"])
            #expect(agentEvents.stdout.split(separator: "\n").count == Int(try fleet.sql("SELECT count(*) FROM audit_events WHERE rollout_id = \(id) AND kind LIKE 'agent.%'")))
            #expect(try runProgram("sluicectl", ["audit", "verify", "--db", fleet.db]).status == 0)
        }
    }
}
