#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Blocking POSIX socket probes behind the TCP and DNS health checks. Each one runs on a
/// Dispatch worker (``offload(_:)``) so that a slow peer never blocks Swift's cooperative pool.
enum NetworkProbe {
    /// A resolved socket address.
    struct Address: Sendable {
        var family: Int32
        var bytes: [UInt8]
        var text: String
    }

    /// Runs blocking work on a Dispatch queue and resumes with its result.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    /// Resolves `host` (numeric or a name) and `port` for `socketType`.
    static func resolve(_ host: String, _ port: Int, socketType: Int32) -> Result<[Address], ProbeFailure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = socketType
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            return .failure(ProbeFailure("cannot resolve \(host): \(String(cString: gai_strerror(status)))"))
        }
        defer { freeaddrinfo(first) }
        var addresses: [Address] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let sockaddr = entry.pointee.ai_addr {
                let bytes = Array(UnsafeRawBufferPointer(start: sockaddr, count: Int(entry.pointee.ai_addrlen)))
                addresses.append(Address(family: entry.pointee.ai_family, bytes: bytes, text: "\(host):\(port)"))
            }
            cursor = entry.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(ProbeFailure("\(host) has no address")) : .success(addresses)
    }

    /// Connects over TCP within `timeout`.
    static func connectTCP(_ host: String, _ port: Int, timeout: Duration) -> Result<Void, ProbeFailure> {
        switch resolve(host, port, socketType: Int32(SOCK_STREAM.rawValue)) {
        case .failure(let failure): return .failure(failure)
        case .success(let addresses):
            var last = ProbeFailure("no address tried")
            for address in addresses {
                let descriptor = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                guard descriptor >= 0 else { return .failure(ProbeFailure("socket: \(errnoText())")) }
                defer { close(descriptor) }
                let started = address.bytes.withUnsafeBytes {
                    connect(descriptor, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.bytes.count))
                }
                if started != 0 && errno != EINPROGRESS {
                    last = ProbeFailure("connect to \(address.text): \(errnoText())")
                    continue
                }
                if started != 0 {
                    guard wait(descriptor, events: Int16(POLLOUT), timeout: timeout) else {
                        last = ProbeFailure("connect to \(address.text) timed out after \(timeout)")
                        continue
                    }
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
                    guard error == 0 else {
                        last = ProbeFailure("connect to \(address.text): \(errnoText(error))")
                        continue
                    }
                }
                return .success(())
            }
            return .failure(last)
        }
    }

    /// Sends `query` over UDP to `server:port` and returns the first datagram whose id matches.
    static func exchangeUDP(_ query: [UInt8], server: String, port: Int, timeout: Duration) -> Result<[UInt8], ProbeFailure> {
        let address: Address
        switch resolve(server, port, socketType: Int32(SOCK_DGRAM.rawValue)) {
        case .failure(let failure): return .failure(failure)
        case .success(let addresses): address = addresses[0]
        }
        let descriptor = socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failure(ProbeFailure("socket: \(errnoText())")) }
        defer { close(descriptor) }
        // A connected UDP socket only receives from the server, and learns of "port
        // unreachable" as ECONNREFUSED, so a dead server fails fast instead of timing out.
        let connected = address.bytes.withUnsafeBytes {
            connect(descriptor, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.bytes.count))
        }
        guard connected == 0 else { return .failure(ProbeFailure("connect to \(address.text): \(errnoText())")) }
        guard send(descriptor, query, query.count, 0) == query.count else {
            return .failure(ProbeFailure("send to \(address.text): \(errnoText())"))
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let remaining = deadline - clock.now
            guard remaining > .zero, wait(descriptor, events: Int16(POLLIN), timeout: remaining) else {
                return .failure(ProbeFailure("no answer from \(address.text) within \(timeout)"))
            }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count < 0 {
                if errno == EINTR { continue }
                let reason = errno == ECONNREFUSED ? "connection refused (nothing listens on UDP \(address.text))" : errnoText()
                return .failure(ProbeFailure("receive from \(address.text): \(reason)"))
            }
            let reply = Array(buffer.prefix(count))
            if reply.count >= 2 && reply[0] == query[0] && reply[1] == query[1] { return .success(reply) }
        }
    }

    /// Polls one descriptor for `events` until `timeout`.
    private static func wait(_ descriptor: Int32, events: Int16, timeout: Duration) -> Bool {
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        let (seconds, attoseconds) = timeout.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        while true {
            let ready = poll(&entry, 1, max(milliseconds, 1))
            if ready < 0 && errno == EINTR { continue }
            return ready > 0
        }
    }
}

/// Why a network probe failed, one line.
struct ProbeFailure: Error, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
}
