import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain blocking TCP connection to loopback, to hold one request open and read its answer.
/// Used by one test at a time; the async reads hand it to a thread of their own.
public final class LoopbackConnection: @unchecked Sendable {
    private var fd: Int32
    /// This end's port, to find the connection in `/proc/net/tcp`.
    public let localPort: Int

    public init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw LoopbackError("connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        // A guard against a hang, not a synchronisation: reads give up after 30 s.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
        self.localPort = Int(UInt16(bigEndian: local.sin_port))
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Closes this end: with a FIN, or with a RST when `reset` (no lingering).
    public func close(reset: Bool) {
        guard fd >= 0 else { return }
        if reset {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        Glibc.close(fd)
        fd = -1
    }

    public func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw LoopbackError("send: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// Everything until the peer closes (or a read fails: a reset, the 30 s guard).
    public func readToEnd() -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            data += buffer[..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// One HTTP/1.1 response with a `Content-Length` body, leaving the connection open (or
    /// what came before the peer closed, a read failed or the 30 s guard gave up).
    public func readResponse() -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let separator = Array("\r\n\r\n".utf8)
        while true {
            if let end = data.indices.first(where: { data[$0...].starts(with: separator) }) {
                let head = String(decoding: data[..<end], as: UTF8.self).lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if data.count >= end + separator.count + length { return String(decoding: data, as: UTF8.self) }
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return String(decoding: data, as: UTF8.self) }
            data += buffer[..<n]
        }
    }

    /// ``readResponse()`` from an async test, on a thread of its own.
    public func readResponse() async -> String { await Self.onOwnThread { self.readResponse() } }

    /// ``readToEnd()`` from an async test, on a thread of its own: a blocking read must never
    /// hold one of the few threads that run the tests' and the controller's tasks (on 2 cores,
    /// two such reads stall every task of the test run, the controller answering them included).
    public func readToEnd() async -> String { await Self.onOwnThread { self.readToEnd() } }

    /// ``waitForPeerClose()`` from an async test, on a thread of its own.
    public func waitForPeerClose() async -> Bool { await Self.onOwnThread { self.waitForPeerClose() } }

    private static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// Reads and discards until the connection ends; true when the peer closed or reset it,
    /// false when the 30 s guard gave up first.
    public func waitForPeerClose() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { continue }
            return n == 0 || errno == ECONNRESET
        }
    }

    /// Whether the connection from `fromPort` to `toPort` on 127.0.0.1 has no byte left
    /// unacknowledged on the client's side and none unread on the server's (`/proc/net/tcp`).
    public static func delivered(fromPort: Int, toPort: Int) -> Bool {
        // Read to the end: `String(contentsOfFile:)` stops after the first page of a proc file
        // (its size reads as 0), and a busy host lists more sockets than that.
        guard let file = FileHandle(forReadingAtPath: "/proc/net/tcp") else { return false }
        defer { try? file.close() }
        let table = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        var clientSent = false, serverRead = false
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            let local = port(fields[1]), remote = port(fields[2])
            let queues = fields[4].split(separator: ":").map { Int($0, radix: 16) ?? -1 }
            guard queues.count == 2 else { continue }
            if local == fromPort && remote == toPort { clientSent = queues[0] == 0 }
            if local == toPort && remote == fromPort { serverRead = queues[1] == 0 }
        }
        return clientSent && serverRead
    }

    private static func port(_ address: Substring) -> Int? {
        address.split(separator: ":").last.flatMap { Int($0, radix: 16) }
    }
}

public struct LoopbackError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
