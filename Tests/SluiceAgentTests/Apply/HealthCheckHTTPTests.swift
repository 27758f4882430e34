#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import SluiceAgent
import SluiceCore
import Testing

/// The HTTP health check against a real HTTP server on loopback: what URLSession did (redirects
/// followed up to 20, the body read to its end, one timeout for the whole exchange) still holds
/// on AsyncHTTPClient.
@Suite("health checks: HTTP against a live loopback server")
struct HealthCheckHTTPTests {
    let checker = HealthChecker(root: HostRoot(path: "/", runner: SubprocessRunner()))

    @Test("the expected status passes, another fails and says what came back")
    func status() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let ok = await checker.run(.http(url: "http://127.0.0.1:\(server.port)/ok", expectStatus: 204, timeoutSeconds: 2))
        #expect(ok.passed, "\(ok.output)")
        #expect(ok.output == "HTTP 204")
        let missing = await checker.run(.http(url: "http://127.0.0.1:\(server.port)/missing", expectStatus: 200, timeoutSeconds: 2))
        #expect(!missing.passed)
        #expect(missing.output == "HTTP 404")
    }

    @Test("a redirect is followed and the final status counts")
    func redirect() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let moved = await checker.run(.http(url: "http://127.0.0.1:\(server.port)/moved", expectStatus: 204, timeoutSeconds: 2))
        #expect(moved.passed, "\(moved.output)")
        #expect(server.requests(to: "/moved") == 1)
        #expect(server.requests(to: "/ok") == 1)
    }

    @Test("a redirect loop fails after 20 redirects, as URLSession's did")
    func redirectLoop() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        // The bound only matters on a loaded machine (the whole suite runs at once): the loop
        // ends on its 21st request, not on the clock.
        let loop = await checker.run(.http(url: "http://127.0.0.1:\(server.port)/loop", expectStatus: 200, timeoutSeconds: 60))
        #expect(!loop.passed)
        #expect(loop.output.hasSuffix("more than 20 redirects"), "\(loop.output)")
        #expect(server.requests(to: "/loop") == 21)
    }

    @Test("a large body is read to its end and passes")
    func largeBody() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let big = await checker.run(.http(url: "http://127.0.0.1:\(server.port)/big", expectStatus: 200, timeoutSeconds: 5))
        #expect(big.passed, "\(big.output)")
    }

    @Test("a status whose body never completes fails at the timeout: the whole answer counts, not its head")
    func stalledBody() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let start = ContinuousClock.now
        let stalled = await checker.run(.http(url: "http://127.0.0.1:\(server.port)/stall", expectStatus: 200, timeoutSeconds: 1))
        let took = ContinuousClock.now - start
        #expect(!stalled.passed)
        #expect(stalled.output.hasSuffix("no complete answer within 1 s"), "\(stalled.output)")
        // At least the timeout; no upper bound on wall time (a loaded test machine is slow):
        // the message says it was the timeout that ended it.
        #expect(took >= .milliseconds(900), "\(took)")
    }

    @Test("a server that accepts and never answers fails at the timeout")
    func silent() async throws {
        let server = try ScriptedHTTPServer()
        defer { server.stop() }
        let start = ContinuousClock.now
        let silent = await checker.run(.http(url: "http://127.0.0.1:\(server.port)/silent", expectStatus: 200, timeoutSeconds: 1))
        let took = ContinuousClock.now - start
        #expect(!silent.passed)
        #expect(silent.output.hasSuffix("no complete answer within 1 s"), "\(silent.output)")
        #expect(took >= .milliseconds(900), "\(took)")
    }

    @Test("a refused connection fails at once, not after retrying until the timeout")
    func refused() async throws {
        let port = try freeTCPPort()
        let refused = await checker.run(.http(url: "http://127.0.0.1:\(port)/health", expectStatus: 200, timeoutSeconds: 10))
        #expect(!refused.passed)
        #expect(refused.output.hasPrefix("GET http://127.0.0.1:\(port)/health: "), "\(refused.output)")
        // Refused, not a timeout: a client retrying the connection would end at the 10 s
        // timeout and say so (no bound on wall time: a loaded test machine is slow).
        #expect(refused.output.lowercased().contains("refused"), "\(refused.output)")
        #expect(!refused.output.contains("within"), "\(refused.output)")
    }

    @Test("a URL that is not http or https fails without a request")
    func invalidURL() async {
        for text in ["ftp://127.0.0.1/x", "not a url", "http://"] {
            let result = await checker.run(.http(url: text, expectStatus: 200, timeoutSeconds: 1))
            #expect(!result.passed)
            #expect(result.output.hasPrefix("invalid URL"), "\(text): \(result.output)")
        }
    }
}

/// A TCP port on loopback with nothing listening (bound, read, closed).
func freeTCPPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
    }
    guard bound else { throw HostCommandError(description: "cannot bind a TCP port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// An HTTP/1.1 server on loopback, one thread per connection, answering by path:
/// `/ok` 204; `/moved` 302 to `/ok`; `/loop` 302 to itself; `/big` 200 with 1 MiB;
/// `/stall` a 200 head promising a body that never comes; `/silent` nothing; else 404.
final class ScriptedHTTPServer: @unchecked Sendable {
    let port: Int
    private let descriptor: Int32
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var held: [Int32] = []

    init() throws {
        (descriptor, port) = try listenOnLoopback(backlog: 32)
        let fd = descriptor
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                Thread.detachNewThread { self.serve(client) }
            }
        }
    }

    /// How many requests asked for `path`.
    func requests(to path: String) -> Int { lock.withLock { counts[path, default: 0] } }

    func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
        // Under the lock: a held descriptor is closed only after it leaves `held`, so no number reused since is hit.
        lock.withLock { for client in held { shutdown(client, Int32(SHUT_RDWR)) } }
    }

    private func serve(_ client: Int32) {
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.ends(with: Array("\r\n\r\n".utf8)) {
            let count = recv(client, &buffer, buffer.count, 0)
            guard count > 0 else { close(client); return }
            request += buffer[..<count]
        }
        let line = String(decoding: request.prefix { $0 != 13 }, as: UTF8.self).split(separator: " ")
        let path = line.count > 1 ? String(line[1]) : "/"
        lock.withLock { counts[path, default: 0] += 1 }
        let reply: String
        switch path {
        case "/ok": reply = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
        case "/moved": reply = "HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        case "/loop": reply = "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        case "/big": reply = "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\n" + String(repeating: "x", count: 1 << 20)
        case "/stall", "/silent":
            // Held open until stop(): the client must give up by itself.
            lock.withLock { held.append(client) }
            if path == "/stall" { send(client, Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial".utf8)) }
            var byte: UInt8 = 0
            _ = recv(client, &byte, 1, 0)
            lock.withLock { held.removeAll { $0 == client } }
            close(client)
            return
        default: reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        }
        send(client, Array(reply.utf8))
        close(client)
    }

    private func send(_ client: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
