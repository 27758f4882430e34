import Foundation
import SluiceAPI
import SluiceCore
import SluiceTestSupport
import Testing

/// Tokens, host revocation and label approval as operators and agents really meet them:
/// sluicectl, sluice-agent and sluiced as processes over loopback and a SQLite file.
@Suite("Live: token and host revocation, label approval")
struct IdentityCLITests {
    @Test func operatorsListAndRevokeTokensApproveAnAgentsLabelsAndRevokeItsHost() async throws {
        try await onOwnThread {
            let dir = NSTemporaryDirectory() + "sluice-live-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let db = dir + "/sluice.sqlite"
            func line(_ finished: Finished) -> String { finished.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

            let admin = line(try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", db]))
            let enroll = line(try runProgram("sluiced", ["enroll-token", "create", "--name", "boot", "--uses", "2", "--db", db]))
            let controller = try BackgroundProgram(
                "sluiced", ["--db", db, "--listen", "127.0.0.1:0", "--port-file", dir + "/port"], logPath: dir + "/sluiced.log")
            let url = "http://127.0.0.1:\(try controller.waitForFile(dir + "/port").trimmingCharacters(in: .whitespacesAndNewlines))"
            func ctl(_ arguments: [String], token: String? = nil) throws -> Finished {
                try runProgram("sluicectl", arguments, environment: ["SLUICE_CONTROLLER": url, "SLUICE_TOKEN": token ?? admin])
            }

            // Tokens: create, list (no secrets), revoke; the revoked one is refused at once.
            let olga = try ctl(["token", "create", "--name", "olga", "--role", "operator", "--expires-in", "30d"])
            #expect(olga.status == 0, "\(olga.stderr)")
            let olgaKey = try #require(CredentialToken(parsing: line(olga))).keyID
            let listed = try ctl(["token", "list", "--output", "json"])
            let tokens = try JSONDecoder().decode(TokenList.self, from: Data(listed.stdout.utf8)).tokens
            #expect(Set(tokens.map(\.name)) == ["alice", "olga"] && !listed.stdout.contains(line(olga)))
            #expect(tokens.first { $0.name == "olga" }?.expiresAtMs != nil)
            let revoke = try ctl(["token", "revoke", olgaKey, "--reason", "left the team"])
            #expect(revoke.status == 0 && revoke.stdout.contains("revoked operator token \(olgaKey)"), "\(revoke.stderr)")
            let refused = try ctl(["hosts", "list"], token: line(olga))
            #expect(refused.status != 0 && refused.stderr.contains("token \(olgaKey) has been revoked"), "\(refused.stderr)")
            let missingReason = try ctl(["token", "revoke", olgaKey])
            #expect(missingReason.status != 0 && missingReason.stderr.contains("--reason"), "\(missingReason.stderr)")
            let lastAdmin = try ctl(["token", "revoke", admin, "--reason", "oops"])
            #expect(lastAdmin.status != 0 && lastAdmin.stderr.contains("last live admin token"), "\(lastAdmin.stderr)")

            // An agent enrolls in osc-fr1, then asks to move: the controller keeps its labels.
            func agent(_ region: String) throws -> Finished {
                try runProgram(
                    "sluice-agent",
                    ["--controller", url, "--host-id", "live-host", "--label", "region=\(region)", "--state-dir", dir + "/state", "--once"],
                    environment: ["SLUICE_ENROLL_TOKEN": enroll])
            }
            #expect(try agent("osc-fr1").status == 0)
            let moved = try agent("osc-secnum-fr1")
            #expect(moved.status == 0, "\(moved.stderr)")
            #expect((moved.stdout + moved.stderr).contains("controller kept this host's labels"), "\(moved.stdout)\(moved.stderr)")
            let shown = try ctl(["hosts", "labels", "live-host"])
            #expect(shown.stdout.contains("labels:  region=osc-fr1") && shown.stdout.contains("pending: region=osc-secnum-fr1"), "\(shown.stdout)")
            let approved = try ctl(["hosts", "labels", "live-host", "--approve", "--reason", "CHG-7 moved"])
            #expect(approved.status == 0 && approved.stdout.contains("region=osc-fr1 -> region=osc-secnum-fr1"), "\(approved.stdout)\(approved.stderr)")
            let both = try ctl(["hosts", "labels", "live-host", "--approve", "--reject", "--reason", "x"])
            #expect(both.status != 0 && both.stderr.contains("use one of --approve, --reject, or --set/--unset"), "\(both.stderr)")

            // Revoking the host: its agent is refused, and its id cannot enroll again.
            let revokedHost = try ctl(["hosts", "revoke", "live-host", "--reason", "CHG-8 decommissioned"])
            #expect(revokedHost.status == 0 && revokedHost.stdout.contains("revoked host live-host"), "\(revokedHost.stderr)")
            let after = try agent("osc-secnum-fr1")
            #expect(after.status != 0 && (after.stdout + after.stderr).contains("host live-host has been revoked"), "\(after.stdout)\(after.stderr)")

            // On the controller host, even the last admin token can be revoked.
            #expect(try controller.stop(signal: SIGTERM) == 0)
            let local = try runProgram("sluiced", ["token", "revoke", admin, "--reason", "rotating", "--db", db])
            #expect(local.status == 0, "\(local.stderr)")
            let localList = try runProgram("sluiced", ["token", "list", "--db", db])
            #expect(localList.stdout.contains("alice  admin  revoked"), "\(localList.stdout)")
        }
    }

    @Test func aRevokedHostsRunningAgentHandsItBackToUnattendedUpgrades() async throws {
        let dir = NSTemporaryDirectory() + "sluice-live-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The host's root, unattended-upgrades installed (systemctl cannot reach it there: only the apt.conf.d file is taken over).
        let root = dir + "/root", override = root + "/etc/apt/apt.conf.d/51sluice-unattended-upgrades"
        for directory in [root + "/etc/apt/apt.conf.d", root + "/usr/bin", dir + "/etc"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        FileManager.default.createFile(atPath: root + "/usr/bin/unattended-upgrade", contents: Data())
        try "state_dir: \(dir)/state\n".write(toFile: dir + "/etc/agent.yaml", atomically: true, encoding: .utf8)
        let db = dir + "/sluice.sqlite"
        try "report_interval: 5s\n".write(toFile: dir + "/sluiced.yaml", atomically: true, encoding: .utf8)
        let admin = try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", db]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let token = try runProgram("sluiced", ["enroll-token", "create", "--name", "boot", "--db", db]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let controller = try BackgroundProgram(
            "sluiced", ["--config", dir + "/sluiced.yaml", "--db", db, "--listen", "127.0.0.1:0", "--port-file", dir + "/port"], logPath: dir + "/sluiced.log")
        let url = "http://127.0.0.1:\(try controller.waitForFile(dir + "/port").trimmingCharacters(in: .whitespacesAndNewlines))"
        let enrolled = try runProgram(
            "sluice-agent", ["enroll", "--controller", url, "--token", token, "--host-id", "uu-host", "--config", dir + "/etc/agent.yaml", "--no-start", "--root", root])
        try #require(enrolled.status == 0 && FileManager.default.fileExists(atPath: override), "\(enrolled.stdout)\(enrolled.stderr)")
        let agent = try BackgroundProgram("sluice-agent", ["--config", dir + "/etc/agent.yaml", "--root", root], logPath: dir + "/agent.log")
        #expect(try await eventually(within: .seconds(60)) { agent.log.contains("reported ") }, "\(agent.log)")

        let revoked = try runProgram("sluicectl", ["hosts", "revoke", "uu-host", "--reason", "CHG-9"], environment: ["SLUICE_CONTROLLER": url, "SLUICE_TOKEN": admin])
        #expect(revoked.status == 0, "\(revoked.stderr)")

        #expect(try await eventually(within: .seconds(60)) { !FileManager.default.fileExists(atPath: override) }, "\(agent.log)")
        // The file goes first, the log line after it.
        #expect(
            try await eventually(within: .seconds(10)) { agent.log.contains("handed this host back to unattended-upgrades: the controller revoked this host") },
            "\(agent.log)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/unattended-upgrades.json"))
        _ = try agent.stop(signal: SIGTERM)
        #expect(try controller.stop(signal: SIGTERM) == 0)
    }
}
