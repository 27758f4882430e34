import Foundation
import SluiceAPI
import SluiceTestSupport
import Testing

/// `sluiced init` with the real binaries: one command from an installed package to a
/// controller that an operator and agents can use over mutual TLS.
@Suite("Live: sluiced init")
struct SluicedInitCLITests {
    struct Layout {
        let dir: TemporaryDirectory
        var etc: String { dir.file("etc/sluice") }
        var state: String { dir.file("lib/sluice") }
        var units: String { dir.file("systemd") }
        var dropIn: String { units + "/sluiced.service.d/mtls.conf" }
        var arguments: [String] { ["--config-dir", etc, "--state-dir", state, "--unit-dir", units] }
    }

    @Test func initSetsUpTLSTheDatabaseTokensAndMutualTLSThenTheOperatorAndAnAgentUseWhatItPrinted() async throws {
        try await onOwnThread {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let layout = Layout(dir: dir)
            let systemctl = try Self.recordingSystemctl(in: dir)
            let initialised = try runProgram(
                "sluiced", ["init", "--name", "127.0.0.1", "--name", "controller.example.net", "--operator", "alice", "--systemctl", systemctl] + layout.arguments)
            try #require(initialised.status == 0, "\(initialised.stderr)")
            #expect(try String(contentsOfFile: dir.file("systemctl.calls"), encoding: .utf8) == "daemon-reload\nenable --now sluiced.service\n")
            for (file, mode) in [("tls/ca.pem", 0o644), ("tls/ca-key.pem", 0o600), ("tls/server.pem", 0o644), ("tls/server-key.pem", 0o600), ("sluiced.yaml", 0o640)] {
                let attributes = try FileManager.default.attributesOfItem(atPath: layout.etc + "/" + file)
                #expect((attributes[.posixPermissions] as? Int) == mode, "\(file)")
            }
            #expect((try FileManager.default.attributesOfItem(atPath: layout.state + "/sluice.sqlite")[.posixPermissions] as? Int) == 0o600)
            let admin = try #require(Self.token(after: "Admin token for alice", in: initialised.stdout))
            let enrollment = try #require(Self.token(after: "Enrollment token", in: initialised.stdout))
            #expect(initialised.stdout.contains("sluice-agent enroll --controller https://127.0.0.1:8460 --ca ca.pem"), "\(initialised.stdout)")

            // The controller runs exactly as the drop-in says (systemd's %d, its credentials
            // directory, is where the keys are here), on a free port instead of the config's.
            let execStart = try #require(try String(contentsOfFile: layout.dropIn, encoding: .utf8).split(separator: "\n")
                .last { $0.hasPrefix("ExecStart=/") })
            let argv = execStart.dropFirst("ExecStart=".count).split(separator: " ").map { $0.replacingOccurrences(of: "%d", with: layout.etc + "/tls") }
            let controller = try BackgroundProgram(
                argv[0], Array(argv.dropFirst()) + ["--listen", "127.0.0.1:0", "--port-file", dir.file("port")], logPath: dir.file("sluiced.log"))
            let url = "https://127.0.0.1:" + (try controller.waitForFile(dir.file("port")).trimmingCharacters(in: .whitespacesAndNewlines))

            let enrolled = try runProgram(
                "sluice-agent",
                [
                    "enroll", "--controller", url, "--ca", layout.etc + "/tls/ca.pem", "--token", enrollment, "--host-id", "ns1.fra",
                    "--label", "region=osc-fr1", "--config", dir.file("agent/agent.yaml"), "--state-dir", dir.file("agent/state"), "--no-start",
                ])
            #expect(enrolled.status == 0, "\(enrolled.stderr)\ncontroller log:\n\(controller.log)")
            #expect(try String(contentsOfFile: dir.file("agent/state/agent-credentials.json"), encoding: .utf8).contains("BEGIN CERTIFICATE"))
            let agent = try runProgram("sluice-agent", ["--config", dir.file("agent/agent.yaml"), "--once"])
            #expect(agent.status == 0, "\(agent.stderr)\ncontroller log:\n\(controller.log)")
            let list = try runProgram(
                "sluicectl", ["hosts", "list", "--output", "json"],
                environment: ["SLUICE_CONTROLLER": url, "SLUICE_TOKEN": admin, "SLUICE_CA_FILE": layout.etc + "/tls/ca.pem"])
            let hosts = try JSONDecoder().decode(HostList.self, from: Data(list.stdout.utf8)).hosts
            #expect(hosts.map(\.id.description) == ["ns1.fra"], "\(list.stderr)")
            #expect(hosts.first?.lastSeenAtMs != nil)
            #expect(try controller.stop(signal: SIGTERM) == 0, "\(controller.log)")

            // Once set up, init refuses in one line and changes nothing.
            let before = try Self.snapshot(dir.path)
            let again = try runProgram("sluiced", ["init", "--name", "127.0.0.1", "--systemctl", systemctl] + layout.arguments)
            #expect(again.status != 0)
            #expect(again.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1, "\(again.stderr)")
            #expect(again.stderr.contains("already set up"), "\(again.stderr)")
            #expect(try Self.snapshot(dir.path) == before)
        }
    }

    @Test func aStepThatFailsRemovesWhatInitHadCreatedAndStartsNothing() async throws {
        try await onOwnThread {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let layout = Layout(dir: dir)
            let systemctl = try Self.recordingSystemctl(in: dir)
            // The state directory's place is taken by a file: the database cannot be created,
            // after the certificates and the config were written.
            try FileManager.default.createDirectory(atPath: dir.file("lib"), withIntermediateDirectories: true)
            try "not a directory".write(toFile: layout.state, atomically: true, encoding: .utf8)
            let before = try Self.snapshot(dir.path)
            let failed = try runProgram("sluiced", ["init", "--name", "127.0.0.1", "--systemctl", systemctl] + layout.arguments)
            #expect(failed.status != 0)
            #expect(failed.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count == 1, "\(failed.stderr)")
            #expect(try Self.snapshot(dir.path) == before, "\(failed.stderr)")
        }
    }

    @Test func theDropInInitWritesRunsTheSameCommandAsThePackagedMutualTLSDropIn() async throws {
        try await onOwnThread {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let layout = Layout(dir: dir)
            let initialised = try runProgram("sluiced", ["init", "--name", "127.0.0.1", "--no-start"] + layout.arguments)
            try #require(initialised.status == 0, "\(initialised.stderr)")
            let packaged = try String(contentsOf: repositoryRoot.appendingPathComponent("systemd/sluiced-mtls.conf"), encoding: .utf8)
            let written = try String(contentsOfFile: layout.dropIn, encoding: .utf8)
            // The same settings once this test's directories are the packaged ones.
            func settings(_ text: String) -> [String] {
                text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map {
                    $0.replacingOccurrences(of: #"ExecStart=\S+/sluiced "#, with: "ExecStart=sluiced ", options: .regularExpression)
                        .replacingOccurrences(of: layout.etc, with: "/etc/sluice")
                        .replacingOccurrences(of: layout.state, with: "/var/lib/sluice")
                }
            }
            #expect(settings(written) == settings(packaged))
        }
    }

    /// The token printed on the line after `heading`.
    static func token(after heading: String, in output: String) -> String? {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let index = lines.firstIndex(where: { $0.hasPrefix(heading) }), index + 1 < lines.count else { return nil }
        return lines[index + 1].trimmingCharacters(in: .whitespaces)
    }

    /// Every file and directory under `path` with its size and mode.
    static func snapshot(_ path: String) throws -> [String] {
        let enumerator = try #require(FileManager.default.enumerator(atPath: path))
        return try enumerator.compactMap { $0 as? String }.sorted().map { name in
            let attributes = try FileManager.default.attributesOfItem(atPath: path + "/" + name)
            return "\(name) \(attributes[.size] ?? 0) \(attributes[.posixPermissions] ?? 0)"
        }
    }

    /// An executable standing in for systemctl: appends each call's arguments as a line to `systemctl.calls`.
    static func recordingSystemctl(in dir: TemporaryDirectory) throws -> String {
        let path = dir.file("systemctl")
        try "#!/bin/sh\necho \"$*\" >> \"$(dirname \"$0\")/systemctl.calls\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }
}
