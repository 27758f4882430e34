import Foundation
import Testing

/// `sluicectl demo` end to end: a real sluiced, the simulated fleet over HTTP, the comparison.
@Suite("Live: sluicectl demo")
struct DemoTests {
    /// Runs the demo with a bounded time: the demo gives up (exit 1) when its rollout has not finished in 60 s.
    static func demo(_ arguments: [String]) throws -> Finished {
        try runProgram("sluicectl", ["demo"] + arguments + ["--timeout", "60"])
    }

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
}
