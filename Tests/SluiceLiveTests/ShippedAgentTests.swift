import Foundation
import SluiceAPI
import Testing

/// The agent as it is installed on hosts: built by `scripts/build-agent` (Swift's runtime
/// linked in, the idle loop's functions laid out together), then run for real: it needs no
/// Swift library on the host, enrolls and reports over mutual TLS with the apt backend
/// reading this machine's dpkg (read only), and keeps beating after it handed back its
/// start-up pages.
@Suite("Live: the agent built for hosts (scripts/build-agent)")
struct ShippedAgentTests {
    @Test(.timeLimit(.minutes(20)))
    func theHostBuildNeedsNoSwiftLibraryKeepsItsIdleFunctionsTogetherAndRunsOverMutualTLS() async throws {
        let agent = try await Self.build()

        // Only the C libraries every Debian host has: no libswiftCore, Foundation, dispatch, ICU.
        let dynamic = try await Self.offThePool { try runProgram("/usr/bin/readelf", ["--dynamic", "--wide", agent]) }
        #expect(dynamic.status == 0, "\(dynamic.stderr)")
        let needed = dynamic.stdout.split(separator: "\n").filter { $0.contains("(NEEDED)") }
            .compactMap { $0.split(separator: "[").last?.split(separator: "]").first.map(String.init) }
        #expect(!needed.isEmpty, "no NEEDED entries read from:\n\(dynamic.stdout.prefix(2000))")
        let swiftLibraries = needed.filter { $0.hasPrefix("libswift") || $0.contains("Foundation") || $0.hasPrefix("libdispatch") || $0.contains("ICU") }
        #expect(swiftLibraries.isEmpty, "the host build still needs \(swiftLibraries)")

        try await Self.offThePool { try Self.expectIdleFunctionsTogether(in: agent) }
        try await Self.offThePool { try Self.expectItRunsOverMutualTLS(agent) }
    }

    /// Runs blocking work (processes waited for, polling sleeps) on a thread of its own, not
    /// on one of the few that every other test of this run shares.
    static func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Runs `scripts/build-agent` (its own build directory, so not the one this test run holds)
    /// and returns the path it prints.
    static func build() async throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-build-agent-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: output) }
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let log = try FileHandle(forWritingTo: output)
        defer { try? log.close() }
        let stdout = Pipe()
        let status = try await runScript("scripts/build-agent", output: stdout, errors: log)
        let printed = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "scripts/build-agent exited \(status):\n\(text.suffix(20_000))")
        let expected = repositoryRoot.appendingPathComponent(".build-agent/release/sluice-agent").path
        #expect(printed == expected)
        guard status == 0, FileManager.default.isExecutableFile(atPath: printed) else { throw LiveError("no agent built:\n\(text.suffix(4000))") }
        return printed
    }

    /// The functions `packaging/sluice-agent.order` lists are mostly still in the code, and the
    /// linker put those it can place side by side: they span little more than their own size,
    /// where the same functions in an unordered build spread over the whole 28 MiB of code.
    static func expectIdleFunctionsTogether(in agent: String) throws {
        let lines = try String(contentsOf: repositoryRoot.appendingPathComponent("packaging/sluice-agent.order"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let order = lines.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        #expect(order.count > 1000, "packaging/sluice-agent.order lists only \(order.count) functions")
        // Above this line, functions alone in their section, which the linker can place; below
        // it, those inside the large sections of Swift's static libraries, which go where their
        // whole section goes.
        let marker = try #require(lines.firstIndex { $0.hasPrefix("# Functions inside large sections") }, "no section marker in the order file")
        let alone = lines[..<marker].filter { !$0.isEmpty && !$0.hasPrefix("#") }

        let symbols = try runProgram("/usr/bin/nm", ["--defined-only", "--print-size", agent])
        #expect(symbols.status == 0, "\(symbols.stderr)")
        var functions: [String: (address: UInt64, size: UInt64)] = [:]
        for line in symbols.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 4, "tTwW".contains(fields[2]), let address = UInt64(fields[0], radix: 16), let size = UInt64(fields[1], radix: 16)
            else { continue }
            functions[String(fields[3])] = (address, size)
        }
        // Below this share the file no longer describes the code: run scripts/agent-hot-functions.
        let found = order.filter { functions[$0] != nil }.count
        #expect(
            Double(found) >= 0.8 * Double(order.count),
            "only \(found) of the \(order.count) functions in packaging/sluice-agent.order are in the agent; run scripts/agent-hot-functions")
        let placed = alone.compactMap { functions[$0] }
        guard let low = placed.map(\.address).min(), let high = placed.map({ $0.address + $0.size }).max() else { return }
        let size = placed.reduce(0) { $0 + $1.size }
        #expect(high - low <= 2 * size + (64 << 10), "the \(placed.count) idle functions alone in their sections (\(size) bytes) span \(high - low) bytes: not laid out together")
    }

    /// Enrolls and reports once over mutual TLS (the apt backend reads this machine's dpkg and
    /// apt state, changing nothing), then runs as the service does until its start-up pages
    /// are handed back, keeps beating, and stops cleanly.
    static func expectItRunsOverMutualTLS(_ agent: String) throws {
        let dir = NSTemporaryDirectory() + "sluice-shipped-agent-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = dir + "/sluice.sqlite", tls = dir + "/tls"
        #expect(try runProgram("sluiced", ["tls", "init", "--dir", tls, "--name", "127.0.0.1"]).status == 0)
        let admin = try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", db]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let enroll = try runProgram("sluiced", ["enroll-token", "create", "--name", "boot", "--db", db]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let (controller, url) = try startSluicedOverMutualTLS(db: db, tls: tls, dir: dir)
        let common = ["--controller", url, "--controller-ca", "\(tls)/ca.pem", "--host-id", "shipped1", "--state-dir", dir + "/state"]

        let once = try runProgram(agent, common + ["--once"], environment: ["SLUICE_ENROLL_TOKEN": enroll])
        #expect(once.status == 0, "the host build failed: \(once.stderr)\ncontroller log:\n\(controller.log)")

        let service = try BackgroundProgram(agent, common + ["--heartbeat", "1s"], logPath: dir + "/agent.log")
        let deadline = Date().addingTimeInterval(120)
        while !service.log.contains("start-up over"), service.process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(service.log.contains("start-up over"), "the agent never handed back its start-up pages:\n\(service.log)")
        // Its inventory came from its child process (`--print-inventory`), as every interval's will.
        #expect(service.log.contains("reported "), "no inventory report:\n\(service.log)")
        // Beats after the trim run on code mapped back in.
        Thread.sleep(forTimeInterval: 3)
        #expect(service.process.isRunning, "the agent exited after its start-up:\n\(service.log)")
        #expect(!service.log.contains("failed"), "\(service.log)")
        #expect(try service.stop(signal: SIGTERM) == 0, "the agent did not stop cleanly:\n\(service.log)")
        // A stop mid long-poll is no error (it used to log "assignment poll failed: ... CancellationError()").
        #expect(!service.log.contains(" error sluice-agent"), "\(service.log)")

        let shown = try runProgram(
            "sluicectl", ["hosts", "list", "--output", "json", "--ca-file", "\(tls)/ca.pem"], environment: ["SLUICE_CONTROLLER": url, "SLUICE_TOKEN": admin])
        #expect(shown.status == 0, "\(shown.stderr)")
        let hosts = try JSONDecoder().decode(HostList.self, from: Data(shown.stdout.utf8)).hosts
        #expect(hosts.map(\.id.description) == ["shipped1"])
        #expect(try controller.stop(signal: SIGTERM) == 0, "sluiced did not shut down cleanly:\n\(controller.log)")
    }
}
