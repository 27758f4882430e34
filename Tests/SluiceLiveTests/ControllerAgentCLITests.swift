import Foundation
import SluiceAPI
import SluiceCore
import SluiceTestSupport
import Testing

/// The three real programs, as separate processes, over a real loopback socket and a real
/// SQLite file.
@Suite("Live: sluiced, sluice-agent and sluicectl as processes")
struct ControllerAgentCLITests {
    @Test func anAgentEnrollsAndReportsAndSluicectlListsItsHost() async throws {
        try await onOwnThread {
            let dir = NSTemporaryDirectory() + "sluice-live-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let db = dir + "/sluice.sqlite"

            let admin = try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", db])
            #expect(admin.status == 0, "\(admin.stderr)")
            let enroll = try runProgram("sluiced", ["enroll-token", "create", "--name", "boot", "--db", db])
            #expect(enroll.status == 0, "\(enroll.stderr)")

            let controller = try BackgroundProgram(
                "sluiced", ["--db", db, "--listen", "127.0.0.1:0", "--port-file", dir + "/port"], logPath: dir + "/sluiced.log")
            let port = try controller.waitForFile(dir + "/port").trimmingCharacters(in: .whitespacesAndNewlines)
            let url = "http://127.0.0.1:\(port)"

            let agent = try runProgram(
                "sluice-agent",
                [
                    "--controller", url, "--host-id", "live-host", "--label", "region=osc-fr1", "--label", "role=dns-resolver",
                    "--state-dir", dir + "/state", "--once",
                ],
                environment: ["SLUICE_ENROLL_TOKEN": enroll.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
            #expect(agent.status == 0, "agent failed: \(agent.stderr)\ncontroller log:\n\(controller.log)")

            let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/state/agent-credentials.json")
            #expect((attributes[.posixPermissions] as? Int) == 0o600)

            let list = try runProgram(
                "sluicectl", ["hosts", "list", "--output", "json"],
                environment: ["SLUICE_CONTROLLER": url, "SLUICE_TOKEN": admin.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
            #expect(list.status == 0, "\(list.stderr)")
            let hosts = try JSONDecoder().decode(HostList.self, from: Data(list.stdout.utf8)).hosts
            #expect(hosts.map(\.id.description) == ["live-host"])
            #expect(hosts.first?.labels["region"] == "osc-fr1")
            #expect(hosts.first?.lastSeenAtMs != nil)
            #expect(hosts.first?.os?.id.isEmpty == false)

            // A second run reuses the saved secret; the single-use enrollment token is not needed again.
            let again = try runProgram("sluice-agent", ["--controller", url, "--host-id", "live-host", "--state-dir", dir + "/state", "--once"])
            #expect(again.status == 0, "\(again.stderr)")

            let wrongToken = try runProgram("sluicectl", ["hosts", "list", "--controller", url, "--token", "sluice-op.0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
            #expect(wrongToken.status != 0)
            #expect(wrongToken.stderr.contains("401 unauthenticated"), "\(wrongToken.stderr)")

            #expect(try controller.stop(signal: SIGTERM) == 0, "sluiced did not shut down cleanly on SIGTERM:\n\(controller.log)")
        }
    }

    /// A host's labels are stored as it sent them, but a bidirectional override or a C1
    /// control in them reaches an operator's terminal only escaped.
    @Test func terminalControlsInAHostsLabelsArePrintedEscapedAndKeptAsGivenInJSON() async throws {
        try await onOwnThread {
            let dir = NSTemporaryDirectory() + "sluice-live-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let db = dir + "/sluice.sqlite"
            let admin = try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", db]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let enroll = try runProgram("sluiced", ["enroll-token", "create", "--name", "boot", "--db", db]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let controller = try BackgroundProgram(
                "sluiced", ["--db", db, "--listen", "127.0.0.1:0", "--port-file", dir + "/port"], logPath: dir + "/sluiced.log")
            let url = "http://127.0.0.1:" + (try controller.waitForFile(dir + "/port").trimmingCharacters(in: .whitespacesAndNewlines))
            let hostile = "fr1\u{202E}1rf-cso\u{9B}2J"
            let agent = try runProgram(
                "sluice-agent", ["--controller", url, "--host-id", "odd-host", "--label", "region=" + hostile, "--state-dir", dir + "/state", "--once"],
                environment: ["SLUICE_ENROLL_TOKEN": enroll])
            #expect(agent.status == 0, "\(agent.stderr)")

            let environment = ["SLUICE_CONTROLLER": url, "SLUICE_TOKEN": admin]
            let table = try runProgram("sluicectl", ["hosts", "list"], environment: environment)
            #expect(table.status == 0, "\(table.stderr)")
            #expect(table.stdout.contains("region=fr1\\u{202E}1rf-cso\\u{9B}2J"), "\(table.stdout)")
            #expect(!table.stdout.unicodeScalars.contains { $0.value == 0x202E || $0.value == 0x9B })
            let json = try runProgram("sluicectl", ["hosts", "list", "--output", "json"], environment: environment)
            let hosts = try JSONDecoder().decode(HostList.self, from: Data(json.stdout.utf8)).hosts
            #expect(hosts.first?.labels["region"] == hostile)
            #expect(try controller.stop(signal: SIGTERM) == 0)
        }
    }

    /// What the running agent's child process prints each report interval: this machine's dpkg
    /// and apt state as an InventoryReport (read only).
    @Test func printInventoryPrintsThisHostsReportAsJSON() async throws {
        try await onOwnThread {
            let printed = try runProgram("sluice-agent", ["--print-inventory"])
            #expect(printed.status == 0, "\(printed.stderr)")
            let report = try JSONDecoder().decode(InventoryReport.self, from: Data(printed.stdout.utf8))
            #expect(report.installed.contains { $0.name.rawValue == "dpkg" }, "dpkg is not in the inventory printed")
            try report.validate()
        }
    }

    @Test func sluicedRefusesADatabaseFromANewerSchemaWithOneClearLine() async throws {
        try await onOwnThread {
            let dir = NSTemporaryDirectory() + "sluice-live-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let db = dir + "/sluice.sqlite"
            #expect(try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", db]).status == 0)
            let sqlite = Process()
            sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            sqlite.arguments = [db, "INSERT INTO sluice_schema VALUES (9999, 'future', 'x', 0)"]
            try sqlite.run()
            sqlite.waitUntilExit()
            #expect(sqlite.terminationStatus == 0)
            let refused = try runProgram("sluiced", ["--db", db, "--listen", "127.0.0.1:0"])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("9999_future"), "\(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "expected one line, got:\n\(refused.stderr)")
        }
    }
}
