import ArgumentParser
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A program of this build (sluiced, sluice-agent, this sluice-bench) started as a child,
/// its output going to a log file; killed when the benchmark ends, however it ends.
final class BenchChild: @unchecked Sendable {
    let name: String
    let logPath: String
    private let process: Process

    /// - Parameters:
    ///   - executable: a path, or the name of a program beside this sluice-bench.
    init(_ executable: String, _ arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        self.name = URL(fileURLWithPath: executable).lastPathComponent
        self.logPath = logPath
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.contains("/") ? executable : try benchSibling(executable))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process.environment = env
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        BenchCleanup.shared.add(pid: process.processIdentifier)
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits for the port the child writes once it listens.
    func waitForPort(file: String, timeout: Double = 60) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: file, encoding: .utf8), text.hasSuffix("\n"),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return port
            }
            guard process.isRunning else { throw ValidationError("\(name) exited early:\n\(log.suffix(4000))") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw ValidationError("\(name) did not write \(file) within \(Int(timeout)) s:\n\(log.suffix(4000))")
    }

    /// SIGTERM, then SIGKILL after `grace` seconds.
    func stop(grace: Double = 5) {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(grace)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        BenchCleanup.shared.remove(pid: process.processIdentifier)
    }

    deinit { stop(grace: 0) }
}

/// A program built beside this sluice-bench (`swift build -c release --product sluiced` puts
/// it in the same directory).
func benchSibling(_ name: String) throws -> String {
    var candidates: [URL] = []
    if let url = Bundle.main.executableURL { candidates.append(url.resolvingSymlinksInPath().deletingLastPathComponent()) }
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
    for dir in candidates {
        let path = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw ValidationError(
        "cannot find \(name) beside sluice-bench (looked in \(candidates.map(\.path).joined(separator: ", "))): build it with `swift build -c release --product \(name)`")
}

/// What to undo when the benchmark ends early: children to kill, directories to remove.
/// SIGINT and SIGTERM run it too.
final class BenchCleanup: Sendable {
    static let shared = BenchCleanup()
    private let state = Mutex<(pids: Set<Int32>, directories: Set<String>)>(([], []))

    func add(pid: Int32) { state.withLock { _ = $0.pids.insert(pid) } }
    func remove(pid: Int32) { state.withLock { _ = $0.pids.remove(pid) } }
    func add(directory: String) { state.withLock { _ = $0.directories.insert(directory) } }
    func remove(directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
        state.withLock { _ = $0.directories.remove(directory) }
    }

    /// Kills what is left and removes the directories.
    func run() {
        let (pids, directories) = state.withLock { state in
            defer { state = ([], []) }
            return (state.pids, state.directories)
        }
        for pid in pids { kill(pid, SIGKILL) }
        for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
    }

    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// SIGINT, SIGTERM and SIGHUP clean up before exiting.
    static func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                shared.run()
                FileHandle.standardError.write(Data("\nsluice-bench: interrupted; children stopped and temporary files removed\n".utf8))
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}

/// A temporary directory removed when the benchmark ends (or is interrupted).
func benchTemporaryDirectory(_ prefix: String) throws -> String {
    let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    BenchCleanup.shared.add(directory: path)
    return path
}

/// One process's CPU time and memory, from /proc.
struct ProcessSample {
    /// User plus system CPU seconds since the process started.
    var cpuSeconds: Double
    /// Resident set now (`VmRSS`), bytes.
    var rssBytes: Int
    /// The highest resident set so far (`VmHWM`), bytes.
    var peakRSSBytes: Int
    /// Of `rssBytes`: anonymous memory (heap, stacks), and pages mapped from files (the
    /// executable and its shared libraries).
    var anonymousBytes: Int
    var fileBytes: Int
    var at: ContinuousClock.Instant

    static func read(pid: Int32) -> ProcessSample? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        func kilobytes(_ key: String) -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return 0 }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return ProcessSample(
            cpuSeconds: (utime + stime) / ticks, rssBytes: kilobytes("VmRSS") * 1024, peakRSSBytes: kilobytes("VmHWM") * 1024,
            anonymousBytes: kilobytes("RssAnon") * 1024, fileBytes: kilobytes("RssFile") * 1024, at: .now)
    }

    /// CPU seconds and percent of one core between two samples.
    static func cpu(from a: ProcessSample, to b: ProcessSample) -> (seconds: Double, percent: Double) {
        let cpu = b.cpuSeconds - a.cpuSeconds
        return (cpu, cpu / max(benchSeconds(b.at - a.at), 1e-9) * 100)
    }
}

func benchSeconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

func mebibytes(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

/// The open-files soft limit of another process, from /proc/PID/limits.
func benchOpenFileLimit(pid: Int32) -> String {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)) ?? ""
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else { return "?" }
    return String(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first ?? "?")
}

/// A value shared by concurrent tasks (a `Mutex` cannot be captured by an escaping closure).
final class BenchShared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { mutex.withLock { body(&$0) } }
}

/// A counter shared by concurrent tasks.
final class BenchCounter: Sendable {
    private let atomic = Atomic<Int>(0)
    /// Adds one; returns the value before.
    func next() -> Int { atomic.add(1, ordering: .relaxed).oldValue }
    var value: Int { atomic.load(ordering: .relaxed) }
}

/// Runs `body` and returns its value with the seconds it took.
func benchTimed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try body()
    return (value, benchSeconds(ContinuousClock.now - start))
}

/// Prints a line and flushes it, so progress shows when the output goes to a file.
func say(_ line: String) {
    print(line)
    fflush(nil)
}

/// The whole machine's CPU time from /proc/stat: to tell what other processes took meanwhile.
struct MachineSample {
    /// Busy CPU seconds over all cores since boot.
    var busySeconds: Double
    var at: ContinuousClock.Instant

    static func read() -> MachineSample {
        let text = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
        let fields = text.split(separator: "\n").first?.split(separator: " ").dropFirst().compactMap { Double($0) } ?? []
        // user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait.
        let busy = fields.enumerated().filter { $0.offset != 3 && $0.offset != 4 && $0.offset < 8 }.reduce(0) { $0 + $1.element }
        return MachineSample(busySeconds: busy / Double(sysconf(Int32(_SC_CLK_TCK))), at: .now)
    }

    /// `machine 1.83 of 2 cores busy, 0.21 of them other processes`, given what the measured processes used.
    static func line(from a: MachineSample, to b: MachineSample, measured: Double) -> String {
        let seconds = max(benchSeconds(b.at - a.at), 1e-9)
        let busy = (b.busySeconds - a.busySeconds) / seconds
        return String(
            format: "machine: %.2f of %d cores busy, %.2f of them other processes", busy, ProcessInfo.processInfo.activeProcessorCount,
            max(0, busy - measured / seconds))
    }
}

/// Resident memory by what is mapped (`/proc/PID/smaps`), largest first: file name, or
/// `[anonymous]`, with its resident and private dirty bytes.
func benchMappings(pid: Int32) -> [(name: String, rssBytes: Int, privateDirtyBytes: Int)] {
    // Read to the end: /proc files report a size of 0.
    let text = FileHandle(forReadingAtPath: "/proc/\(pid)/smaps").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
    var rss: [String: Int] = [:], dirty: [String: Int] = [:]
    var current = "[anonymous]"
    for line in text.split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if let first = fields.first, first.contains("-"), first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
            current = fields.count >= 6 ? String(fields[5...].joined(separator: " ")) : "[anonymous]"
        } else if fields.first == "Rss:", fields.count > 1, let kB = Int(fields[1]) {
            rss[current, default: 0] += kB * 1024
        } else if fields.first == "Private_Dirty:", fields.count > 1, let kB = Int(fields[1]) {
            dirty[current, default: 0] += kB * 1024
        }
    }
    return rss.map { (name: $0.key, rssBytes: $0.value, privateDirtyBytes: dirty[$0.key] ?? 0) }.sorted { $0.rssBytes > $1.rssBytes }
}
