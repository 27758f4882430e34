import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Many agents' long-polls over plain loopback sockets, one request each, read on one thread
/// with poll(2). On two shared cores the agents' side must cost as little as possible:
/// AsyncHTTPClient spent more CPU receiving 10,000 answers than sluiced spent sending them.
final class RawLongPolls: @unchecked Sendable {
    struct Answer: Sendable {
        var at: ContinuousClock.Instant
        var status: Int
        var body: String
    }

    private var descriptors: [Int32] = []

    /// Connects one socket per request and sends each request (`GET path`, with the header).
    init(port: Int, requests: [(path: String, authorization: String)]) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        do {
            for request in requests {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                guard fd >= 0 else { throw ValidationError("socket: \(String(cString: strerror(errno)))") }
                descriptors.append(fd)
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard connected == 0 else { throw ValidationError("connect: \(String(cString: strerror(errno)))") }
                let text = "GET \(request.path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: \(request.authorization)\r\nAccept: application/json\r\n\r\n"
                let sent = text.utf8CString.withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count - 1, 0) }
                guard sent == text.utf8.count else { throw ValidationError("send: \(String(cString: strerror(errno)))") }
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
        } catch {
            close()
            throw error
        }
    }

    /// Reads every answer, on its own thread, until all arrived or `deadline`; each answer
    /// is timed when its last byte was read.
    func answers(until deadline: ContinuousClock.Instant) async -> [Answer?] {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: self.read(until: deadline)) }
            thread.start()
        }
    }

    private func read(until deadline: ContinuousClock.Instant) -> [Answer?] {
        var answers = [Answer?](repeating: nil, count: descriptors.count)
        var received = [[UInt8]](repeating: [], count: descriptors.count)
        var watched = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var open = descriptors.count
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while open > 0 && ContinuousClock.now < deadline {
            let ready = poll(&watched, nfds_t(watched.count), 100)
            guard ready > 0 else { continue }
            let now = ContinuousClock.now
            for i in watched.indices where watched[i].fd >= 0 && watched[i].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { recv(watched[i].fd, $0.baseAddress, $0.count, 0) }
                if count > 0 { received[i] += chunk[0..<count] }
                if count == 0 || (count < 0 && errno != EAGAIN) || Self.isComplete(received[i]) {
                    answers[i] = Self.parse(received[i], at: now)
                    watched[i].fd = -1
                    open -= 1
                }
            }
        }
        return answers
    }

    /// Headers and as many body bytes as `Content-Length` says.
    static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let end = headerEnd(bytes) else { return false }
        let headers = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
        guard let line = headers.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return bytes.count >= end + 4 + length
    }

    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
        return nil
    }

    static func parse(_ bytes: [UInt8], at: ContinuousClock.Instant) -> Answer {
        let text = String(decoding: bytes, as: UTF8.self)
        let status = Int(text.split(separator: " ", maxSplits: 2).dropFirst().first ?? "") ?? -1
        let body = headerEnd(bytes).map { String(decoding: bytes[($0 + 4)...], as: UTF8.self) } ?? text
        return Answer(at: at, status: status, body: body)
    }

    func close() {
        for fd in descriptors { _ = Glibc.close(fd) }
        descriptors = []
    }

    deinit { close() }
}
