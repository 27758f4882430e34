import ArgumentParser
import Foundation
import SluiceProcess

#if canImport(Glibc)
import Glibc
#endif

/// Issue 22, finding 1: sluiced under a low open-files limit while an attacker without a
/// credential keeps idle sockets open (reopening each one the controller closes); prints the
/// latency of an operator's requests made meanwhile, and the controller's CPU.
struct ConnectionFloodBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connections",
        abstract: "Idle unauthenticated sockets against sluiced at a low open-files limit: latency of legitimate requests, controller CPU.")

    @Option(help: "sluiced's open-files limit (soft and hard), set with prlimit(1).") var openFiles = 128
    @Option(help: "Idle sockets the attacker keeps open.") var idle = 200
    @Option(help: "Seconds of each phase (without, then with the attacker).") var seconds = 20
    @Option(help: "Legitimate requests per second (each on a new connection, as a fresh client would).") var rate = 10

    func run() async throws {
        BenchCleanup.installSignalHandlers()
        defer { BenchCleanup.shared.run() }
        say(benchmarkMachine())
        let directory = try benchTemporaryDirectory("sluice-bench-connections")
        let fleet = try BenchFleet.enroll(
            count: 1, in: directory, id: { _ in "host0" }, labels: { _ in ["environment": "production"] },
            inventory: try BenchInventory.report(installed: 20, variant: 0))
        let sluiced = try BenchChild(
            "/usr/bin/prlimit",
            ["--nofile=\(openFiles):\(openFiles)", "--", try benchSibling("sluiced"), "--db", fleet.databasePath, "--listen", "127.0.0.1:0",
                "--port-file", directory + "/sluiced.port"],
            logPath: directory + "/sluiced.log")
        let port = try sluiced.waitForPort(file: directory + "/sluiced.port")
        say("sluiced: pid \(sluiced.pid), port \(port), open files limit \(benchOpenFileLimit(pid: sluiced.pid)), \(benchDescriptorCount(pid: sluiced.pid)) descriptors open at rest")
        let caps = sluiced.log.split(separator: "\n").first { $0.contains("connections: at most") }
        say("sluiced: \(caps.map { String($0) } ?? "(no connection caps logged)")")
        let request = "GET /v1/hosts/host0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(fleet.hosts[0].authorization)\r\nConnection: close\r\n\r\n"

        let quiet = measure(port: port, request: request, sluiced: sluiced, attacker: nil)
        say(quiet.line("no attacker"))
        let attacker = IdleSocketAttacker(port: port, count: idle)
        attacker.start()
        let busy = measure(port: port, request: request, sluiced: sluiced, attacker: attacker)
        attacker.stop()
        say(busy.line("\(idle) idle sockets held open by an attacker"))
        say("attacker: \(attacker.connects) connects, \(attacker.closedByServer) of its sockets closed by sluiced, \(attacker.failedConnects) connects failed")
        sluiced.stop()
        BenchCleanup.shared.remove(directory: directory)
    }

    struct Phase {
        var latencies: [Double] = []
        var failures: [String] = []
        var cpuPercent = 0.0
        var peakDescriptors = 0

        func line(_ name: String) -> String {
            let sorted = latencies.sorted()
            func at(_ p: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000 }
            return String(
                format: "%@: %d requests answered 200, %d failed; latency p50 %.1f ms, p95 %.1f ms, max %.1f ms; sluiced CPU %.1f %% of one core, at most %d descriptors open",
                name, latencies.count, failures.count, at(0.5), at(0.95), (sorted.last ?? .nan) * 1000, cpuPercent, peakDescriptors)
                + (failures.isEmpty ? "" : " (first failure: \(failures[0]))")
        }
    }

    func measure(port: Int, request: String, sluiced: BenchChild, attacker: IdleSocketAttacker?) -> Phase {
        var phase = Phase()
        // Let the attacker fill its sockets first.
        if let attacker { while attacker.connects < idle && attacker.failedConnects < 10 * idle { Thread.sleep(forTimeInterval: 0.05) } }
        let before = ProcessSample.read(pid: sluiced.pid)!
        let end = ContinuousClock.now + .seconds(seconds)
        var next = ContinuousClock.now
        while ContinuousClock.now < end {
            let start = ContinuousClock.now
            switch BenchRawRequest.send(port: port, text: request, timeoutSeconds: 15) {
            case .success(let answer) where answer.hasPrefix("HTTP/1.1 200"): phase.latencies.append(benchSeconds(ContinuousClock.now - start))
            case .success(let answer): phase.failures.append(String(answer.prefix(80)))
            case .failure(let error): phase.failures.append(error.description)
            }
            phase.peakDescriptors = max(phase.peakDescriptors, benchDescriptorCount(pid: sluiced.pid))
            next = next + .milliseconds(1000 / rate)
            let pause = benchSeconds(next - ContinuousClock.now)
            if pause > 0 { Thread.sleep(forTimeInterval: pause) }
        }
        phase.cpuPercent = ProcessSample.cpu(from: before, to: ProcessSample.read(pid: sluiced.pid)!).percent
        return phase
    }
}

func benchDescriptorCount(pid: Int32) -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
}

/// One request on a new loopback connection, read to the end (the request asks to close).
enum BenchRawRequest {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func send(port: Int, text: String, timeoutSeconds: Int) -> Result<String, Failure> {
        let fd = benchConnect(port: port)
        guard fd >= 0 else { return .failure(Failure(description: "connect: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            return .failure(Failure(description: "send: \(String(cString: strerror(errno)))"))
        }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { data += buffer[..<n]; continue }
            if n < 0 && data.isEmpty { return .failure(Failure(description: "recv: \(String(cString: strerror(errno)))")) }
            break
        }
        guard !data.isEmpty else { return .failure(Failure(description: "closed without an answer")) }
        return .success(String(decoding: data, as: UTF8.self))
    }
}

/// A blocking TCP connection to 127.0.0.1:`port`, or -1.
func benchConnect(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        return -1
    }
    return fd
}

/// Keeps `count` sockets to the controller open, sending nothing; reopens each one the
/// controller closes, on its own thread with poll(2).
final class IdleSocketAttacker: BenchLoopThread, @unchecked Sendable {
    let port: Int
    let count: Int
    private let counters = BenchShared((connects: 0, closed: 0, failed: 0))

    init(port: Int, count: Int) {
        self.port = port
        self.count = count
    }

    var connects: Int { counters.withLock { $0.connects } }
    var closedByServer: Int { counters.withLock { $0.closed } }
    var failedConnects: Int { counters.withLock { $0.failed } }

    override func loop() {
        var sockets = [Int32](repeating: -1, count: count)
        var buffer = [UInt8](repeating: 0, count: 256)
        while isRunning {
            for index in sockets.indices where sockets[index] < 0 {
                let fd = benchConnect(port: port)
                counters.withLock { fd >= 0 ? ($0.connects += 1) : ($0.failed += 1) }
                sockets[index] = fd
            }
            var watched = sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&watched, nfds_t(watched.count), 100)
            guard ready > 0 else { continue }
            for (index, entry) in watched.enumerated() where entry.fd >= 0 && entry.revents != 0 {
                // Readable on an idle socket means closed (or reset) by the controller.
                let n = buffer.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n <= 0 {
                    close(entry.fd)
                    sockets[index] = -1
                    counters.withLock { $0.closed += 1 }
                }
            }
        }
        for fd in sockets where fd >= 0 { close(fd) }
    }
}

/// A loop on a thread of its own, from `start()` until `stop()` returns.
class BenchLoopThread: @unchecked Sendable {
    private let running = BenchShared(true)
    private var thread: Thread?

    var isRunning: Bool { running.withLock { $0 } }

    func start() {
        let thread = Thread { self.loop() }
        self.thread = thread
        thread.start()
    }

    func stop() {
        running.withLock { $0 = false }
        while thread?.isFinished == false { Thread.sleep(forTimeInterval: 0.01) }
    }

    /// Runs until `isRunning` is false.
    func loop() {}
}
