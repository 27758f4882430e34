#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import SluiceAgent
import SluiceCore
import Testing

@Suite("apply parts: journal, restart hold, DNS wire format, health checks")
struct ApplyPartsTests {
    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-apply-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("the journal keeps one apply, ignores a torn last line, and shows it pending until finished")
    func journal() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = ApplyJournal(directory: directory)
        #expect(journal.pending() == nil)
        var started = ApplyJournalEntry(assignmentID: "a1", phase: .started, atMs: 1)
        started.instructions = ApplyInstructions(packages: [try PackagePin(parsing: "resolverd=2.0-1")])
        try journal.begin(started)
        try journal.append(ApplyJournalEntry(assignmentID: "a1", phase: .installing, atMs: 2))
        // A crash in the middle of a write leaves half a line.
        let handle = try #require(FileHandle(forWritingAtPath: journal.path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"assignmentID":"a1","pha"#.utf8))
        try handle.close()
        #expect(journal.pending()?.map(\.phase) == [.started, .installing])
        let summary = try #require(JournalSummary(journal.entries()))
        #expect(summary.last == .installing)
        #expect(summary.instructions?.packages.map(\.description) == ["resolverd=2.0-1"])

        var finished = ApplyJournalEntry(assignmentID: "a1", phase: .finished, atMs: 3)
        finished.outcome = .succeeded
        try journal.append(finished)
        #expect(journal.pending() == nil)
        try journal.begin(ApplyJournalEntry(assignmentID: "a2", phase: .started, atMs: 4))
        #expect(journal.entries().map(\.assignmentID) == ["a2"])
        #expect(FileManager.default.fileExists(atPath: directory + "/apply-journal.prev.jsonl"))
    }

    @Test("the restart hold moves a foreign policy-rc.d aside and restores it; refusals are parsed")
    func restartHold() throws {
        let root = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/usr/sbin", withIntermediateDirectories: true)
        let foreign = "#!/bin/sh\nexit 0\n"
        try foreign.write(toFile: root + "/usr/sbin/policy-rc.d", atomically: true, encoding: .utf8)
        let hold = RestartHold(root: HostRoot(path: root, runner: RecordingRunner()), stateDirectory: "/var/lib/sluice-agent")

        try hold.engage()
        #expect(hold.isEngaged)
        let script = try String(contentsOfFile: root + "/usr/sbin/policy-rc.d", encoding: .utf8)
        #expect(script.contains("exit 101"))
        let attributes = try FileManager.default.attributesOfItem(atPath: root + "/usr/sbin/policy-rc.d")
        #expect((attributes[.posixPermissions] as? Int) == 0o755)
        try "resolverd (restart)\n--quiet named.service restart\nold stop\nresolverd start\n../x restart\n"
            .write(toFile: root + "/var/lib/sluice-agent/held-restarts.log", atomically: true, encoding: .utf8)
        #expect(hold.refusedServices == ["resolverd", "named"])

        #expect(hold.release() == nil)
        #expect(try String(contentsOfFile: root + "/usr/sbin/policy-rc.d", encoding: .utf8) == foreign)
        #expect(!FileManager.default.fileExists(atPath: root + RestartHold.savedPath))
        #expect(hold.release() == nil)
    }

    @Test("policy-rc.d exits 101 and records what it refused in the state directory, whatever its path spells")
    func policyScriptRuns() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Not created beforehand: the script makes it. Quotes, spaces and $ stay literal.
        let state = directory + "/state dir's $HOME `x`"
        let hold = RestartHold(root: HostRoot(runner: RecordingRunner()), stateDirectory: state)
        try hold.script.write(toFile: directory + "/policy-rc.d", atomically: true, encoding: .utf8)
        let result = try await SubprocessRunner().run("/bin/sh", [directory + "/policy-rc.d", "--quiet", "resolverd", "restart"], timeout: .seconds(60))
        #expect(result.status == 101)
        #expect(try String(contentsOfFile: state + "/held-restarts.log", encoding: .utf8) == "--quiet resolverd restart\n")
        #expect(hold.refusedServices == ["resolverd"])
    }

    @Test("DNS query encoding and response parsing")
    func dnsWireFormat() throws {
        let query = try DNSMessage.query(id: 0xBEEF, name: "www.example.org.")
        #expect(Array(query.prefix(12)) == [0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(Array(query.dropFirst(12)) == [3] + Array("www".utf8) + [7] + Array("example".utf8) + [3] + Array("org".utf8) + [0, 0, 1, 0, 1])
        var response = query
        response[2] = 0x81
        response[3] = 0x80
        response[7] = 1
        response += [0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]
        #expect(DNSMessage.parse(response) == .init(id: 0xBEEF, isResponse: true, rcode: 0, truncated: false, answerCount: 1, firstIPv4: "192.0.2.7"))
        #expect(throws: InvalidInput.self) { try DNSMessage.query(id: 1, name: "bad..name") }
        #expect(throws: InvalidInput.self) { try DNSMessage.query(id: 1, name: String(repeating: "a", count: 64) + ".org") }
        #expect(DNSMessage.parse([1, 2, 3]) == nil)
    }

    @Test("health checks: DNS against a live UDP responder, TCP, command, and their failures")
    func healthChecks() async throws {
        let server = try UDPEchoResolver(rcode: 3)
        defer { server.stop() }
        let checker = HealthChecker(root: HostRoot(path: "/", runner: SubprocessRunner()))

        let nx = await checker.run(.dns(server: "127.0.0.1", port: server.port, name: "missing.test", allowNXDomain: false, timeoutSeconds: 1))
        #expect(!nx.passed)
        #expect(nx.output.hasPrefix("NXDOMAIN"))
        let allowed = await checker.run(.dns(server: "127.0.0.1", port: server.port, name: "missing.test", allowNXDomain: true, timeoutSeconds: 1))
        #expect(allowed.passed, "\(allowed.output)")
        let closedPort = try freeUDPPort()
        let dead = await checker.run(.dns(server: "127.0.0.1", port: closedPort, name: "a.test", allowNXDomain: true, timeoutSeconds: 1))
        #expect(!dead.passed)
        #expect(dead.output.contains("refused") || dead.output.contains("no answer"), "\(dead.output)")

        let http = try TinyHTTPServer(status: 204)
        defer { http.stop() }
        let tcp = await checker.run(.tcp(host: "127.0.0.1", port: http.port, timeoutSeconds: 1))
        #expect(tcp.passed, "\(tcp.output)")
        let httpOK = await checker.run(.http(url: "http://127.0.0.1:\(http.port)/health", expectStatus: 204, timeoutSeconds: 2))
        #expect(httpOK.passed, "\(httpOK.output)")
        let httpWrong = await checker.run(.http(url: "http://127.0.0.1:\(http.port)/health", expectStatus: 200, timeoutSeconds: 2))
        #expect(!httpWrong.passed)
        #expect(httpWrong.output == "HTTP 204")
        let tcpDead = await checker.run(.tcp(host: "127.0.0.1", port: closedPort, timeoutSeconds: 1))
        #expect(!tcpDead.passed)
        let ok = await checker.run(.command(CommandSpec(argv: ["true"])))
        #expect(ok.passed)
        let bad = await checker.run(.command(CommandSpec(argv: ["sh", "-c", "echo broken config >&2; exit 3"])))
        #expect(!bad.passed)
        #expect(bad.output == "exit 3: broken config")
    }
}

/// A UDP responder on loopback answering every query with a fixed RCODE, on a thread.
final class UDPEchoResolver: Sendable {
    let port: Int
    private let descriptor: Int32

    init(rcode: UInt8) throws {
        descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = descriptor
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw HostCommandError(description: "cannot bind a UDP socket") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 512)
            var peer = sockaddr_storage()
            while true {
                var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let count = withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &peerLength) }
                }
                if count < 12 { return }
                var reply = Array(buffer.prefix(count))
                reply[2] |= 0x80
                reply[3] = rcode
                _ = withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, reply, reply.count, 0, $0, peerLength) }
                }
            }
        }
    }

    func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }
}

/// Answers every HTTP request on loopback with a fixed status, on a thread.
final class TinyHTTPServer: Sendable {
    let port: Int
    private let descriptor: Int32

    init(status: Int) throws {
        (descriptor, port) = try listenOnLoopback(backlog: 8)
        let fd = descriptor
        Thread.detachNewThread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = recv(client, &buffer, buffer.count, 0)
                let reply = Array("HTTP/1.1 \(status) Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
                _ = send(client, reply, reply.count, Int32(MSG_NOSIGNAL))
                close(client)
            }
        }
    }

    func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
    }
}

/// A TCP socket listening on 127.0.0.1 at a free port, for the tests' small servers.
func listenOnLoopback(backlog: Int32) throws -> (descriptor: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound, listen(fd, backlog) == 0 else {
        close(fd)
        throw HostCommandError(description: "cannot listen on TCP")
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
