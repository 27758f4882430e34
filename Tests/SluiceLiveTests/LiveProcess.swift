import Foundation

/// The directory holding the built `sluiced`, `sluice-agent` and `sluicectl`: beside the
/// test binary (SwiftPM builds them with the tests), or `SLUICE_BIN_DIR`.
func binaryDirectory() throws -> URL {
    if let dir = ProcessInfo.processInfo.environment["SLUICE_BIN_DIR"] { return URL(fileURLWithPath: dir) }
    var candidates: [URL] = []
    if let executable = Bundle.main.executableURL { candidates.append(executable.deletingLastPathComponent()) }
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    for dir in candidates {
        var probe = dir
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: probe.appendingPathComponent("sluiced").path) { return probe }
            probe = probe.deletingLastPathComponent()
        }
    }
    throw LiveError("cannot find the built sluiced near \(candidates.map(\.path)); set SLUICE_BIN_DIR")
}

/// A program by name, beside the tests (`binaryDirectory()`), or by path when it has a slash.
func programURL(_ name: String) throws -> URL {
    name.contains("/") ? URL(fileURLWithPath: name) : try binaryDirectory().appendingPathComponent(name)
}

/// The repository's root, found from this file.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs one of the repository's scripts with bash from its root and returns its exit status.
/// Awaited, not waited for: a script that runs for minutes would otherwise hold one of the few
/// threads that every other test of this run shares.
func runScript(_ script: String, _ arguments: [String] = [], environment: [String: String] = [:], output: Any?, errors: Any?) async throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [repositoryRoot.appendingPathComponent(script).path] + arguments
    process.currentDirectoryURL = repositoryRoot
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    return try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
}

/// A real sluiced over HTTPS that requires client certificates on agent routes, with the
/// private CA `sluiced tls init` wrote into `tls` (and its key, to sign agents' certificates
/// at enrollment), on a free loopback port; returns it and its `https://` URL.
func startSluicedOverMutualTLS(db: String, tls: String, dir: String) throws -> (BackgroundProgram, String) {
    let controller = try BackgroundProgram(
        "sluiced",
        [
            "--db", db, "--listen", "127.0.0.1:0", "--port-file", dir + "/port",
            "--tls-cert", "\(tls)/server.pem", "--tls-key", "\(tls)/server-key.pem",
            "--tls-ca", "\(tls)/ca.pem", "--tls-ca-key", "\(tls)/ca-key.pem", "--require-client-cert",
        ],
        logPath: dir + "/sluiced.log")
    let port = try controller.waitForFile(dir + "/port").trimmingCharacters(in: .whitespacesAndNewlines)
    return (controller, "https://127.0.0.1:\(port)")
}

struct LiveError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Output and exit status of a finished program.
struct Finished {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs one of the built programs (or a program by path) with argv (no shell) to completion.
func runProgram(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Finished {
    let process = Process()
    process.executableURL = try programURL(name)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes to the end before waiting, so a chatty program cannot fill a pipe and block.
    // Standard error on a thread of its own, never on Dispatch's global queue: its few threads
    // also run every task of the test process (four on 2 cores), and four such reads of
    // programs that run for a while stalled every test for a minute and a half.
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var errData = Data()
    Thread.detachNewThread {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        done.signal()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    done.wait()
    process.waitUntilExit()
    return Finished(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// A long-running program (the controller), its log going to a file.
final class BackgroundProgram {
    let process = Process()
    let logPath: String

    init(_ name: String, _ arguments: [String], logPath: String) throws {
        self.logPath = logPath
        process.executableURL = try programURL(name)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits for a file the program writes once it is ready (the port file), up to `timeout` seconds.
    func waitForFile(_ path: String, timeout: Double = 60) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasSuffix("\n") { return text }
            guard process.isRunning else { throw LiveError("\(process.executableURL!.lastPathComponent) exited early:\n\(log)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw LiveError("\(path) did not appear within \(timeout)s:\n\(log)")
    }

    /// Sends `signal` and waits for the exit, up to `timeout` seconds; returns the status.
    func stop(signal: Int32 = SIGTERM, timeout: Double = 30) throws -> Int32 {
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            throw LiveError("did not exit within \(timeout)s of signal \(signal)")
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
