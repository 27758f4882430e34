import Foundation
import SluiceAPI
import SluiceTestSupport
import Testing

/// `sluice-agent enroll` against a real `sluiced`: one step from an installed package to a
/// running agent, and nothing written when the controller refuses.
@Suite("Live: sluice-agent enroll")
struct EnrollCLITests {
    @Test func enrollWritesTheSettingsBesideThePackagedConfigStartsTheUnitAndTheAgentRunsFromThem() async throws {
        try await onOwnThread {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let db = dir.file("sluice.sqlite")
            let admin = try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", db])
            let enroll = try runProgram("sluiced", ["enroll-token", "create", "--name", "boot", "--db", db])
            try #require(admin.status == 0 && enroll.status == 0, "\(admin.stderr)\(enroll.stderr)")
            let controller = try BackgroundProgram(
                "sluiced", ["--db", db, "--listen", "127.0.0.1:0", "--port-file", dir.file("port")], logPath: dir.file("sluiced.log"))
            let url = "http://127.0.0.1:" + (try controller.waitForFile(dir.file("port")).trimmingCharacters(in: .whitespacesAndNewlines))
            // The packaged config, a conffile that must stay byte for byte as installed, and a
            // systemctl that records how it was called.
            try FileManager.default.createDirectory(atPath: dir.file("etc"), withIntermediateDirectories: true)
            let packaged = "# the packaged agent.yaml\nstate_dir: \(dir.file("state"))\nlabels: {region: osc-fr1}\n"
            try packaged.write(toFile: dir.file("etc/agent.yaml"), atomically: true, encoding: .utf8)
            let systemctl = try Self.recordingSystemctl(in: dir)
            // The host's root: unattended-upgrades installed, its own apt.conf.d file in place.
            let root = dir.file("root")
            try FileManager.default.createDirectory(atPath: root + "/etc/apt/apt.conf.d", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/usr/bin", withIntermediateDirectories: true)
            let autoUpgrades = "APT::Periodic::Unattended-Upgrade \"1\";\n"
            try autoUpgrades.write(toFile: root + "/etc/apt/apt.conf.d/20auto-upgrades", atomically: true, encoding: .utf8)
            FileManager.default.createFile(atPath: root + "/usr/bin/unattended-upgrade", contents: Data())
            let override = root + "/etc/apt/apt.conf.d/51sluice-unattended-upgrades", record = dir.file("state/unattended-upgrades.json")
            let common = ["--config", dir.file("etc/agent.yaml"), "--systemctl", systemctl, "--root", root]

            // A refused token: one line, nothing written, systemctl never called.
            let refused = try runProgram(
                "sluice-agent", ["enroll", "--controller", url, "--token", "sluice-enroll.0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "--host-id", "web1"] + common)
            #expect(refused.status != 0)
            #expect(refused.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1, "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("etc/agent.d/enrolled.yaml")))
            #expect(!FileManager.default.fileExists(atPath: dir.file("state/agent-credentials.json")))
            #expect(!FileManager.default.fileExists(atPath: dir.file("systemctl.args")))
            #expect(!FileManager.default.fileExists(atPath: override) && !FileManager.default.fileExists(atPath: record), "no take-over without enrollment")

            let token = enroll.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let enrolled = try runProgram(
                "sluice-agent", ["enroll", "--controller", url, "--token", token, "--host-id", "web1", "--label", "role=dns-resolver"] + common)
            #expect(enrolled.status == 0, "\(enrolled.stderr)\ncontroller log:\n\(controller.log)")
            #expect(enrolled.stdout.contains("enrolled as web1"), "\(enrolled.stdout)")
            #expect(try String(contentsOfFile: dir.file("systemctl.args"), encoding: .utf8) == "enable\n--now\nsluice-agent.service\n")
            #expect(try String(contentsOfFile: dir.file("etc/agent.yaml"), encoding: .utf8) == packaged)
            // Taken over from unattended-upgrades, its own file untouched, and the state before recorded.
            #expect(enrolled.stdout.contains("/etc/apt/apt.conf.d/51sluice-unattended-upgrades sets APT::Periodic::Unattended-Upgrade \"0\""), "\(enrolled.stdout)")
            #expect(try String(contentsOfFile: override, encoding: .utf8).hasSuffix("APT::Periodic::Unattended-Upgrade \"0\";\n"))
            #expect(try String(contentsOfFile: root + "/etc/apt/apt.conf.d/20auto-upgrades", encoding: .utf8) == autoUpgrades)
            #expect(try String(contentsOfFile: record, encoding: .utf8).contains("\"state\" : \"taken-over\""))
            let settings = try FileManager.default.attributesOfItem(atPath: dir.file("etc/agent.d/enrolled.yaml"))
            #expect((settings[.posixPermissions] as? Int) == 0o600)

            // The agent, given only the packaged config's path, runs from what enroll wrote: the
            // controller and labels from the drop-in, its secret from the state directory.
            let agent = try runProgram("sluice-agent", ["--config", dir.file("etc/agent.yaml"), "--once"])
            #expect(agent.status == 0, "\(agent.stderr)\ncontroller log:\n\(controller.log)")
            let list = try runProgram(
                "sluicectl", ["hosts", "list", "--output", "json"],
                environment: ["SLUICE_CONTROLLER": url, "SLUICE_TOKEN": admin.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
            let hosts = try JSONDecoder().decode(HostList.self, from: Data(list.stdout.utf8)).hosts
            #expect(hosts.map(\.id.description) == ["web1"])
            #expect(hosts.first?.labels.values == ["region": "osc-fr1", "role": "dns-resolver"])
            #expect(hosts.first?.lastSeenAtMs != nil)

            // Enrolling again is refused before the controller is asked.
            let again = try runProgram("sluice-agent", ["enroll", "--controller", url, "--token", token] + common)
            #expect(again.status != 0)
            #expect(again.stderr.contains("already enrolled as web1"), "\(again.stderr)")

            // Handing back removes Sluice's file and the record; a second time there is nothing to do.
            let handback = try runProgram("sluice-agent", ["handback", "--config", dir.file("etc/agent.yaml"), "--systemctl", systemctl, "--root", root])
            #expect(handback.status == 0 && handback.stdout == "handed back to unattended-upgrades\n", "\(handback.stdout)\(handback.stderr)")
            #expect(!FileManager.default.fileExists(atPath: override) && !FileManager.default.fileExists(atPath: record))
            let again2 = try runProgram("sluice-agent", ["handback", "--config", dir.file("etc/agent.yaml"), "--root", root])
            #expect(again2.status == 0 && again2.stdout.hasPrefix("not taken over"), "\(again2.stdout)\(again2.stderr)")

            #expect(try controller.stop(signal: SIGTERM) == 0, "\(controller.log)")
        }
    }

    @Test func overMutualTLSTheAgentRunsWithTheCACopyEnrollMadeAndItsClientCertificate() async throws {
        try await onOwnThread {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let db = dir.file("sluice.sqlite"), tls = dir.file("tls")
            let initialised = try runProgram("sluiced", ["tls", "init", "--dir", tls, "--name", "127.0.0.1"])
            try #require(initialised.status == 0, "\(initialised.stderr)")
            let admin = try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", db]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let token = try runProgram("sluiced", ["enroll-token", "create", "--name", "boot", "--db", db]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let (controller, url) = try startSluicedOverMutualTLS(db: db, tls: tls, dir: dir.path)
            // The CA as an operator hands it over: a file that may be gone after enrollment.
            try FileManager.default.copyItem(atPath: tls + "/ca.pem", toPath: dir.file("handed-over-ca.pem"))
            let systemctl = try Self.recordingSystemctl(in: dir)

            let enrolled = try runProgram(
                "sluice-agent",
                [
                    "enroll", "--controller", url, "--ca", dir.file("handed-over-ca.pem"), "--host-id", "ns1.fra", "--label", "region=osc-fr1",
                    "--config", dir.file("etc/agent.yaml"), "--state-dir", dir.file("state"), "--no-start", "--systemctl", systemctl,
                    "--root", dir.file("root"),
                ],
                environment: ["SLUICE_ENROLL_TOKEN": token])
            #expect(enrolled.status == 0, "\(enrolled.stderr)\ncontroller log:\n\(controller.log)")
            #expect(enrolled.stdout.contains("start it with: systemctl enable --now sluice-agent"), "\(enrolled.stdout)")
            #expect(enrolled.stdout.contains("unattended-upgrades is not installed: nothing to take over"), "\(enrolled.stdout)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("systemctl.args")), "--no-start ran systemctl")
            #expect(try String(contentsOfFile: dir.file("state/agent-credentials.json"), encoding: .utf8).contains("BEGIN CERTIFICATE"))

            try FileManager.default.removeItem(atPath: dir.file("handed-over-ca.pem"))
            let agent = try runProgram("sluice-agent", ["--config", dir.file("etc/agent.yaml"), "--once"])
            #expect(agent.status == 0, "\(agent.stderr)\ncontroller log:\n\(controller.log)")
            let list = try runProgram(
                "sluicectl", ["hosts", "list", "--output", "json", "--ca-file", tls + "/ca.pem"], environment: ["SLUICE_CONTROLLER": url, "SLUICE_TOKEN": admin])
            let hosts = try JSONDecoder().decode(HostList.self, from: Data(list.stdout.utf8)).hosts
            #expect(hosts.map(\.id.description) == ["ns1.fra"])
            #expect(hosts.first?.lastSeenAtMs != nil)
            #expect(try controller.stop(signal: SIGTERM) == 0, "\(controller.log)")
        }
    }

    /// An executable standing in for systemctl: writes its arguments, one a line, to `systemctl.args`.
    static func recordingSystemctl(in dir: TemporaryDirectory) throws -> String {
        let path = dir.file("systemctl")
        try "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/systemctl.args\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }
}
