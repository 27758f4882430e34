import Foundation
import Testing

/// `sluicectl demo` end to end: a real sluiced, the simulated fleet over HTTP, the comparison.
@Suite("Live: sluicectl demo")
struct DemoTests {
    /// Runs the demo with a bounded time: the demo gives up (exit 1) when its rollout has not finished in 60 s.
    static func demo(_ arguments: [String]) throws -> Finished {
        try runProgram("sluicectl", ["demo"] + arguments + ["--timeout", "60"])
    }

    /// Runs the demo on a pseudo-terminal (util-linux `script`), as someone at a terminal would.
    static func demoOnTerminal(_ arguments: [String]) throws -> Finished {
        let sluicectl = try binaryDirectory().appendingPathComponent("sluicectl").path
        let command = ([sluicectl, "demo"] + arguments + ["--timeout", "60"]).map { "'\($0)'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qfec", command, "/dev/null"]
        var environment = ProcessInfo.processInfo.environment
        environment["TERM"] = "xterm"
        environment["NO_COLOR"] = nil
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Finished(status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self), stderr: "")
    }

    static let hasScript = FileManager.default.isExecutableFile(atPath: "/usr/bin/script")

    static func row(_ output: String, _ label: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix(label) }.map(String.init)
    }

    @Test func theIncidentHaltsAtTheFirstResolverAndTheComparisonIsComputedFromTheSeed() throws {
        let started = Date()
        let seven = try Self.demo(["--scenario", "incident", "--seed", "7"])
        #expect(seven.status == 0, "\(seven.stderr)\n\(seven.stdout)")
        #expect(Date().timeIntervalSince(started) < 90)
        let out = seven.stdout
        #expect(out.contains("a soak of an hour takes a second"))
        // Halted at the first production resolver, which rolled back before any restart; nothing else started.
        #expect(out.contains("dns1.osc-fr1: rolled-back: rolled back before restart"), "\(out)")
        #expect(out.contains("rollout 1: halted: wave canary: 1 host(s) failed (dns1.osc-fr1)"), "\(out)")
        for other in ["dns2.osc-fr1", "dns1.osc-secnum-fr1", "dns2.osc-secnum-fr1"] {
            #expect(out.contains("\(other): cancelled"), "\(other)")
            #expect(!out.contains("\(other): applying"), "\(other)")
        }
        #expect(out.contains("operator:demo approves wave canary"))
        // The side-by-side figures: unattended-upgrades lost both regions with seed 7, Sluice none.
        let regions = try #require(Self.row(out, "regions that lost all resolvers"))
        #expect(regions.contains("2 (osc-fr1, osc-secnum-fr1)") && regions.hasSuffix(" 0"), "\(regions)")
        let down = try #require(Self.row(out, "resolver-minutes down"))
        #expect(down.hasSuffix(" 0 min"), "\(down)")
        #expect(try #require(Self.row(out, "first failure to halt")).contains("never (no halt)"))
        #expect(try #require(Self.row(out, "hosts left broken")).hasSuffix(" 0"))
        #expect(out.contains("# Postmortem: rollout 1 (demo)"))
        #expect(out.contains("sluiced stopped and temporary files removed"))

        // Another seed draws other timer delays: other breakage times, other minutes down.
        let other = try Self.demo(["--scenario", "incident", "--seed", "11", "--hosts", "12"])
        #expect(other.status == 0, "\(other.stderr)")
        let otherDown = try #require(Self.row(other.stdout, "resolver-minutes down"))
        #expect(otherDown != down, "seed 11 gave the same figure as seed 7: \(otherDown)")
        #expect(other.stdout.contains("rollout 1: halted"))
    }

    @Test func aCleanUpdatePassesEveryWave() throws {
        let clean = try Self.demo(["--scenario", "clean", "--hosts", "8"])
        #expect(clean.status == 0, "\(clean.stderr)\n\(clean.stdout)")
        #expect(clean.stdout.contains("rollout 1: completed"), "\(clean.stdout)")
        #expect(try #require(Self.row(clean.stdout, "regions that lost all resolvers")).contains("0"))
    }

    @Test(.enabled(if: hasScript, "needs util-linux script for a pseudo-terminal"))
    func onATerminalTheBoardIsRedrawnInPlaceAndEndsWithTheRealOutcome() throws {
        let run = try Self.demoOnTerminal(["--scenario", "incident", "--hosts", "12"])
        #expect(run.status == 0, "\(run.stdout)")
        let out = run.stdout
        let board = try #require(out.range(of: "\u{1B}[?25l"), "the board never started:\n\(out)")
        let end = try #require(out.range(of: "\u{1B}[?25h", range: board.upperBound..<out.endIndex), "the cursor was not given back")
        // Frame after frame, each cursor-up climbs exactly the lines the frame before it wrote.
        let frames = out[board.upperBound..<end.lowerBound].split(separator: /\x1B\[\d+A/, omittingEmptySubsequences: false)
        let ups = out[board.upperBound..<end.lowerBound].matches(of: /\x1B\[(\d+)A/).compactMap { Int($0.1) }
        #expect(frames.count >= 5, "a 2 s run at 5 frames a second")
        #expect(zip(frames, ups).allSatisfy { $0.ranges(of: "\u{1B}[2K").count == $1 })
        // The last frame is the real outcome: the canary resolver rolled back, the others cancelled.
        let last = String(frames.last ?? "").replacing("\r\u{1B}[2K", with: "")
        #expect(last.contains(/dns1\.osc-fr1 +rolled back +rolled back before restart/), "\(last)")
        #expect(last.contains(/dns2\.osc-fr1 +cancelled/))
        #expect(last.contains("rollout 1 (demo): halted: wave canary: 1 host(s) failed (dns1.osc-fr1)"))
        #expect(last.contains(/app@osc-fr1 +4 hosts: 4 not in rollout/))
        // Below the board, the comparison prints as usual.
        #expect(out[end.upperBound...].contains("regions that lost all resolvers"))

        let plain = try Self.demoOnTerminal(["--scenario", "clean", "--hosts", "6", "--plain"])
        #expect(plain.status == 0, "\(plain.stdout)")
        #expect(!plain.stdout.contains("\u{1B}["), "--plain draws no board")
        #expect(plain.stdout.contains("rollout 1: completed"))
    }
}
