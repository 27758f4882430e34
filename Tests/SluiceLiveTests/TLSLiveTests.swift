import Foundation
import SluiceAPI
import SluiceCore
import SluiceTestSupport
import Testing

/// The three programs over HTTPS with mutual TLS, as an operator would set them up:
/// `sluiced tls init`, a controller that requires client certificates on agent routes,
/// an agent that pins the CA and gets its certificate at enrollment.
@Suite("Live: HTTPS and mutual TLS between the programs")
struct TLSLiveTests {
    @Test func anAgentEnrollsOverMutualTLSAndAPlainOrUnpinnedClientIsRefused() async throws {
        try await onOwnThread {
            let dir = NSTemporaryDirectory() + "sluice-tls-live-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let db = dir + "/sluice.sqlite"
            let tls = dir + "/tls"

            let initialised = try runProgram("sluiced", ["tls", "init", "--dir", tls, "--name", "127.0.0.1", "--name", "localhost"])
            #expect(initialised.status == 0, "\(initialised.stderr)")
            for key in ["ca-key.pem", "server-key.pem"] {
                let mode = try FileManager.default.attributesOfItem(atPath: "\(tls)/\(key)")[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(key) has mode \(String(mode ?? 0, radix: 8))")
            }
            // A second init would replace the CA every agent trusts: refused, files untouched.
            let before = try String(contentsOfFile: "\(tls)/ca.pem", encoding: .utf8)
            let again = try runProgram("sluiced", ["tls", "init", "--dir", tls, "--name", "127.0.0.1"])
            #expect(again.status != 0)
            #expect(again.stderr.contains("refusing to overwrite"), "\(again.stderr)")
            #expect(try String(contentsOfFile: "\(tls)/ca.pem", encoding: .utf8) == before)

            let admin = try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", db]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let enroll = try runProgram("sluiced", ["enroll-token", "create", "--name", "boot", "--db", db]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)

            let (controller, url) = try startSluicedOverMutualTLS(db: db, tls: tls, dir: dir)
            let port = try #require(URL(string: url)?.port)

            let agent = try runProgram(
                "sluice-agent",
                ["--controller", url, "--controller-ca", "\(tls)/ca.pem", "--host-id", "ns1.fra", "--state-dir", dir + "/state", "--once"],
                environment: ["SLUICE_ENROLL_TOKEN": enroll])
            #expect(agent.status == 0, "agent failed: \(agent.stderr)\ncontroller log:\n\(controller.log)")
            let saved = try String(contentsOfFile: dir + "/state/agent-credentials.json", encoding: .utf8)
            #expect(saved.contains("BEGIN CERTIFICATE"), "no client certificate was saved")

            // The second run reports with its token and its client certificate.
            let second = try runProgram(
                "sluice-agent", ["--controller", url, "--controller-ca", "\(tls)/ca.pem", "--host-id", "ns1.fra", "--state-dir", dir + "/state", "--once"])
            #expect(second.status == 0, "\(second.stderr)")

            let list = try runProgram(
                "sluicectl", ["hosts", "list", "--output", "json", "--ca-file", "\(tls)/ca.pem"],
                environment: ["SLUICE_CONTROLLER": url, "SLUICE_TOKEN": admin])
            #expect(list.status == 0, "\(list.stderr)")
            let hosts = try JSONDecoder().decode(HostList.self, from: Data(list.stdout.utf8)).hosts
            #expect(hosts.map(\.id.description) == ["ns1.fra"])

            // Without the pinned CA the controller's certificate is not trusted.
            let unpinned = try runProgram("sluicectl", ["hosts", "list"], environment: ["SLUICE_CONTROLLER": url, "SLUICE_TOKEN": admin])
            #expect(unpinned.status != 0)
            #expect(unpinned.stderr.contains("TLS failed"), "\(unpinned.stderr)")
            #expect(unpinned.stderr.split(separator: "\n").count == 1, "expected one line, got:\n\(unpinned.stderr)")

            // Plain HTTP to the TLS port gets nowhere; plain HTTP off loopback is refused before sending.
            let plain = try runProgram("sluicectl", ["hosts", "list"], environment: ["SLUICE_CONTROLLER": "http://127.0.0.1:\(port)", "SLUICE_TOKEN": admin])
            #expect(plain.status != 0)
            let remote = try runProgram("sluicectl", ["hosts", "list"], environment: ["SLUICE_CONTROLLER": "http://192.0.2.1:\(port)", "SLUICE_TOKEN": admin])
            #expect(remote.stderr.contains("refusing plain HTTP"), "\(remote.stderr)")

            #expect(try controller.stop(signal: SIGTERM) == 0, "sluiced did not shut down cleanly:\n\(controller.log)")
        }
    }

    /// Regression (security probe): the key of another `tls init` only got
    /// `failedToLoadCertificate`; sluiced now says which files do not belong together.
    @Test func sluicedGivenTheKeyOfAnotherCertificateSaysSoInOneLineNamingBothFiles() async throws {
        try await onOwnThread {
            let dir = NSTemporaryDirectory() + "sluice-tls-live-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            for name in ["first", "second"] {
                let made = try runProgram("sluiced", ["tls", "init", "--dir", "\(dir)/\(name)", "--name", "127.0.0.1"])
                #expect(made.status == 0, "\(made.stderr)")
            }
            let cert = "\(dir)/first/server.pem", key = "\(dir)/second/server-key.pem"
            let refused = try runProgram(
                "sluiced", ["--db", dir + "/s.sqlite", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key])
            #expect(refused.status != 0)
            let lines = refused.stderr.split(separator: "\n")
            #expect(lines.count == 1, "expected one line, got:\n\(refused.stderr)")
            #expect(
                refused.stderr.contains("the TLS key \(key) does not match the certificate \(cert)") && !refused.stderr.contains("failedToLoad"),
                "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/s.sqlite"), "refused, but it created the database first")
        }
    }

    @Test func sluicedRefusesPlainHTTPOffLoopback() async throws {
        try await onOwnThread {
            let dir = NSTemporaryDirectory() + "sluice-tls-live-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let refused = try runProgram("sluiced", ["--db", dir + "/s.sqlite", "--listen", "0.0.0.0:0"])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("refusing to serve plain HTTP"), "\(refused.stderr)")
        }
    }
}
