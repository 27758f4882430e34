import Foundation
import SluiceCore
import Synchronization

/// The demo's sluiced: its process, temporary directory and tokens; `cleanUp` is idempotent.
final class DemoController: @unchecked Sendable {
    let directory: String
    let process: Process
    let url: String
    let adminToken: String
    let enrollToken: String
    private let lock = NSLock()
    private var cleaned = false

    static let policy = """
        # The demo's policy: on the compressed clock a soak of an hour takes a second.
        name: demo
        groups: {labels: [role, region], max_unavailable: 1}
        waves:
          - {name: test, select: {environment: test, role: dns-resolver}, strategy: all, soak: 1s}
          - {name: canary, select: {environment: production, role: dns-resolver}, strategy: one-per-group, soak: 2s, approval: manual, failure_budget: 0}
          - {name: rest, select: {environment: production, role: dns-resolver}, strategy: {batches: 1}, soak: 1s, failure_budget: 0}
        roles:
          dns-resolver: {}
        """

    /// The shortest silence the controller accepts, so the silent-host scenario shows in
    /// seconds; the board marks a host silent past it, as the controller does.
    static let staleAfterSeconds = 10

    private init(directory: String, process: Process, url: String, adminToken: String, enrollToken: String) {
        self.directory = directory
        self.process = process
        self.url = url
        self.adminToken = adminToken
        self.enrollToken = enrollToken
    }

    /// The sluiced beside this executable.
    static func sluicedPath() throws -> String {
        var candidates: [URL] = []
        if let url = Bundle.main.executableURL { candidates.append(url.resolvingSymlinksInPath().deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        for dir in candidates {
            let path = dir.appendingPathComponent("sluiced").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw InvalidInput("cannot find sluiced beside sluicectl (looked in \(candidates.map(\.path).joined(separator: ", "))): build it with `swift build`")
    }

    static func start() throws -> DemoController {
        let sluiced = try sluicedPath()
        let directory = NSTemporaryDirectory() + "sluice-demo-" + UUID().uuidString
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory + "/policies", withIntermediateDirectories: true)
        do {
            try policy.write(toFile: directory + "/policies/demo.yaml", atomically: true, encoding: .utf8)
            try "stale_after: \(staleAfterSeconds)s\n".write(toFile: directory + "/sluiced.yaml", atomically: true, encoding: .utf8)
            let db = directory + "/sluice.sqlite"
            let admin = try runTool(sluiced, ["token", "create", "--name", "demo", "--db", db])
            let enroll = try runTool(sluiced, ["enroll-token", "create", "--name", "demo-fleet", "--uses", "100000", "--db", db])
            let process = Process()
            _ = fm.createFile(atPath: directory + "/sluiced.log", contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/sluiced.log"))
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try launch(
                process, sluiced,
                [
                    "--config", directory + "/sluiced.yaml", "--db", db, "--policies", directory + "/policies",
                    "--listen", "127.0.0.1:0", "--port-file", directory + "/port",
                ])
            let deadline = Date().addingTimeInterval(30)
            var port: String?
            while Date() < deadline {
                if let text = try? String(contentsOfFile: directory + "/port", encoding: .utf8), text.hasSuffix("\n") {
                    port = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    break
                }
                guard process.isRunning else { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            guard let port else {
                let log = (try? String(contentsOfFile: directory + "/sluiced.log", encoding: .utf8)) ?? ""
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                throw InvalidInput("sluiced did not start:\n\(log)")
            }
            return DemoController(directory: directory, process: process, url: "http://127.0.0.1:\(port)", adminToken: admin, enrollToken: enroll)
        } catch {
            try? fm.removeItem(atPath: directory)
            throw error
        }
    }

    /// Starts sluiced so that it cannot outlive this process, even one killed with SIGKILL: on
    /// Linux through util-linux's `setpriv --pdeathsig KILL`, which asks the kernel to kill it
    /// when its parent dies. The kernel's parent is the *thread* that spawned it, so a thread of
    /// its own spawns it and waits for its exit (a pool thread may end mid-demo, taking sluiced
    /// with it). Without setpriv it starts directly, and only the signal handlers clean up.
    static func launch(_ process: Process, _ sluiced: String, _ arguments: [String]) throws {
        let fm = FileManager.default
        #if os(Linux)
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first { fm.isExecutableFile(atPath: $0) }
        #else
        let setpriv: String? = nil
        #endif
        if let setpriv {
            process.executableURL = URL(fileURLWithPath: setpriv)
            process.arguments = ["--pdeathsig", "KILL", "--", sluiced] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: sluiced)
            process.arguments = arguments
        }
        let launched = DispatchSemaphore(value: 0), exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let failure = Mutex<(any Error)?>(nil)
        let spawner = Thread {
            do { try process.run() } catch { failure.withLock { $0 = error } }
            launched.signal()
            if failure.withLock({ $0 == nil }) { exited.wait() }
        }
        spawner.name = "sluiced-parent"
        spawner.start()
        launched.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// Runs `sluiced token create` and friends; returns the token printed.
    static func runTool(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw InvalidInput("sluiced \(arguments.prefix(2).joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops sluiced (SIGTERM, then SIGKILL after 2 s: its database is thrown away anyway) and removes the temporary directory.
    func cleanUp() {
        lock.lock()
        defer { lock.unlock() }
        guard !cleaned else { return }
        cleaned = true
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(2)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    nonisolated(unsafe) private static var signalSources: [any DispatchSourceSignal] = []

    /// Ctrl-C or SIGTERM: clean up, give the terminal its cursor back, then exit with 128+signal.
    static func installSignalCleanup(_ demo: DemoController, screen: DemoScreen) {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                demo.cleanUp()
                screen.restoreTerminal()
                try? FileHandle.standardError.write(contentsOf: Data("\nsluicectl demo: interrupted; sluiced stopped and temporary files removed\n".utf8))
                exit(128 + sig)
            }
            source.resume()
            signalSources.append(source)
        }
    }
}
