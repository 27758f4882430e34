import Foundation
import SluiceCore
import Testing

@testable import SluiceYAML

/// Hostile policy files: random bytes, YAML damaged token by token, and the shapes that
/// break parsers (deep nesting, alias bombs, huge numbers, over-long files). Each must give
/// one line `file[:line:column]: ...`, or a policy within the loader's limits; never a crash
/// or a hang. Seeded, so that a failing case can be replayed from its seed and round.
@Suite("Policy fuzzing")
struct PolicyFuzzTests {
    static let policiesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies").path

    /// Loads `text`; returns the policy, or checks that the error is one line naming the file.
    @discardableResult
    static func loadOrRefuse(_ text: String, _ context: String) -> Policy? {
        do {
            let policy = try PolicyLoader.load(text, file: "fuzz.yaml")
            checkLimits(policy, context)
            return policy
        } catch {
            #expect(error.message.hasPrefix("fuzz.yaml:") && !error.message.contains("\n"), "\(context): \(error.message)")
            return nil
        }
    }

    /// What the controller relies on in a loaded policy: durations it can turn into
    /// milliseconds, named waves, bounded lists.
    static func checkLimits(_ policy: Policy, _ context: String) {
        #expect(!policy.waves.isEmpty && policy.waves.count <= PolicyLoader.maxWaves, "\(context)")
        #expect(Set(policy.waves.map(\.name)).count == policy.waves.count, "\(context)")
        for wave in policy.waves {
            #expect((0...PolicyLoader.maxSoakSeconds).contains(wave.soakSeconds), "\(context): soak \(wave.soakSeconds)")
            #expect(wave.failureBudget >= 0, "\(context)")
        }
        if case .onNewCandidates(let debounce) = policy.schedule {
            #expect((0...PolicyLoader.maxSoakSeconds).contains(debounce), "\(context): debounce \(debounce)")
        }
    }

    @Test func randomBytesAreRefusedWithOneLine() {
        var random = SplitMix64(seed: 0xB17E5)
        let yamlish = Array("name: waves select all soak 1h {}[],:-&*!|>'\"#%@`?\t\n  ".utf8)
        for round in 0..<300 {
            Self.loadOrRefuse(randomText(round: round, alphabet: yamlish, using: &random), "round \(round)")
        }
    }

    @Test(arguments: ["security-updates.yaml", "dns-resolvers.yaml"])
    func tokenMutationsGiveAnErrorOrAPolicyWithinLimits(_ name: String) throws {
        let original = try String(contentsOfFile: Self.policiesDirectory + "/" + name, encoding: .utf8)
        var random = SplitMix64(seed: name == "security-updates.yaml" ? 0x70CE : 0x70CF)
        var loaded = 0
        for round in 0..<200 {
            var text = original
            for _ in 0..<Int.random(in: 1...3, using: &random) { text = mutateToken(text, using: &random) }
            if Self.loadOrRefuse(text, "\(name) round \(round)") != nil { loaded += 1 }
        }
        #expect(loaded > 0, "no mutation left a valid policy: the mutations are too coarse to reach the checks")
    }

    /// Shapes that break parsers and the code after them, each refused on its own.
    @Test(arguments: Array(PolicyFuzzTests.hostileShapes.indices))
    func aHostileShapeIsRefused(_ index: Int) {
        let (what, text) = Self.hostileShapes[index]
        let started = ContinuousClock.now
        #expect(Self.loadOrRefuse(text, what) == nil, "\(what) loaded")
        #expect(ContinuousClock.now - started < .seconds(10), "\(what) took \(ContinuousClock.now - started)")
    }

    static let wave = "waves: [{name: a, select: all}]\n"
    static let hostileShapes: [(String, String)] = [
        ("flow nesting 100,000 deep", "name: x\n" + wave + "roles: " + String(repeating: "[", count: 100_000)),
        ("closed flow nesting 50,000 deep", "name: x\n" + wave + "qualify: {include: " + String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000) + "}\n"),
        ("mapping nesting 50,000 deep", "name: x\n" + wave + "roles: " + String(repeating: "{a: ", count: 50_000) + "b" + String(repeating: "}", count: 50_000) + "\n"),
        ("block nesting 1,000 deep", "name: x\n" + wave + "roles:\n" + (1...1000).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " v\n"),
        (
            "alias bomb",
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + (1...9).map { "b\($0): &b\($0) [" + Array(repeating: $0 == 1 ? "*a" : "*b\($0 - 1)", count: 10).joined(separator: ", ") + "]" }.joined(separator: "\n")
                + "\nname: x\n" + wave + "qualify: {include: *b9}\n"
        ),
        ("an alias used as a key", "name: x\n" + wave + "roles: {&k dns: {}, *k : {}}\n"),
        ("an undefined alias", "name: x\n" + wave + "qualify: {include: *nothing}\n"),
        ("a merge key", "base: &base {name: a, select: all}\nname: x\nwaves: [{<<: *base}]\n"),
        ("a soak that overflows milliseconds", "name: x\nwaves: [{name: a, select: all, soak: 20000000000w}]\n"),
        ("a soak of Int64.max seconds", "name: x\nwaves: [{name: a, select: all, soak: 9223372036854775807s}]\n"),
        ("a soak past Int64", "name: x\nwaves: [{name: a, select: all, soak: 99999999999999999999s}]\n"),
        ("a soak of a year", "name: x\nwaves: [{name: a, select: all, soak: 365d}]\n"),
        ("a debounce that overflows milliseconds", "name: x\n" + wave + "schedule: {on_new_candidates: {debounce: 20000000000w}}\n"),
        ("a failure budget past Int", "name: x\nwaves: [{name: a, select: all, failure_budget: 99999999999999999999}]\n"),
        ("a negative failure budget", "name: x\nwaves: [{name: a, select: all, failure_budget: -1}]\n"),
        ("a batch of Int.min hosts", "name: x\nwaves: [{name: a, select: all, strategy: {batches: -9223372036854775808}}]\n"),
        ("max_unavailable past Int", "name: x\n" + wave + "groups: {labels: [role], max_unavailable: 1e400}\n"),
        ("a port past UInt16", "name: x\nwaves: [{name: a, select: {role: r}}]\nroles: {r: {health: [{tcp: {host: h, port: 4294967297}}]}}\n"),
        ("a timeout past Int", "name: x\nwaves: [{name: a, select: {role: r}}]\nroles: {r: {health: [{unit: u}], health_deadline: 99999999999999999999d}}\n"),
        ("a window crossing 24:00 the wrong way", "name: x\nwaves: [{name: a, select: all, windows: [{days: [mon], from: \"25:00\", to: \"99:99\", time_zone: UTC}]}]\n"),
        ("a time zone that is a path", "name: x\nwaves: [{name: a, select: all, windows: [{days: [mon], from: \"09:00\", to: \"10:00\", time_zone: ../../../../etc/passwd}]}]\n"),
        ("a blackout date out of range", "name: x\nwaves: [{name: a, select: all, blackout_dates: [\"2026-02-30\"]}]\n"),
        ("a NUL in a value", "name: x\nwaves: [{name: \"a\\0b\", select: all}]\n"),
        ("a 100,000-character wave name", "name: x\nwaves: [{name: \(String(repeating: "a", count: 100_000)), select: all}]\n"),
        ("a document over 1 MiB", "name: x\n" + wave + "# " + String(repeating: "x", count: 1 << 20) + "\n"),
        ("two documents", "name: x\n" + wave + "---\nname: y\n" + wave),
        ("a tag", "name: !!binary eA==\n" + wave),
        ("1,000 waves", "name: x\nwaves:\n" + (0..<1000).map { "  - {name: w\($0), select: all}" }.joined(separator: "\n") + "\n"),
    ]

    @Test func aFileOverOneMebibyteIsRefusedBeforeItIsRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-big-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ("name: big\n" + Self.wave + "# " + String(repeating: "x", count: PolicyLoader.maxFileBytes)).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: InvalidInput("\(path): larger than 1 MiB")) { try PolicyLoader.loadFile(path) }
    }

    @Test func aFileThatIsNotUTF8IsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-latin1-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data([0x6E, 0x61, 0x6D, 0x65, 0x3A, 0x20, 0xE9, 0x0A]).write(to: URL(fileURLWithPath: path))
        #expect(throws: InvalidInput("\(path): not UTF-8 text")) { try PolicyLoader.loadFile(path) }
    }

    @Test func soakAndDebounceAreBoundedByThirtyDays() throws {
        let soak = try PolicyLoader.load("name: x\nwaves: [{name: a, select: all, soak: 30d}]\n", file: "p.yaml")
        #expect(soak.waves[0].soakSeconds == 30 * 86400)
        #expect(throws: InvalidInput("p.yaml:2:38: waves[0].soak: must be from 0s to 30d, got \"31d\"")) {
            try PolicyLoader.load("name: x\nwaves: [{name: a, select: all, soak: 31d}]\n", file: "p.yaml")
        }
        #expect(throws: InvalidInput("p.yaml:3:42: schedule.on_new_candidates.debounce: must be from 0s to 30d, got \"5w\"")) {
            try PolicyLoader.load("name: x\n" + Self.wave + "schedule: {on_new_candidates: {debounce: 5w}}\n", file: "p.yaml")
        }
    }
}

/// One random edit at the level of YAML tokens: a scalar becomes another kind of value
/// (huge or negative numbers, durations past any limit, lists, mappings, aliases, control
/// characters), punctuation is dropped or doubled, or a key is renamed.
private func mutateToken(_ text: String, using random: inout SplitMix64) -> String {
    // Scalars: runs of characters that are not YAML punctuation or space.
    let punctuation = Set("{}[],:#&*!|>'\"%@`\n -")
    var tokens: [Range<String.Index>] = []
    var index = text.startIndex
    while index < text.endIndex {
        if punctuation.contains(text[index]) {
            index = text.index(after: index)
            continue
        }
        var end = index
        while end < text.endIndex, !punctuation.contains(text[end]) { end = text.index(after: end) }
        tokens.append(index..<end)
        index = end
    }
    guard let token = tokens.randomElement(using: &random) else { return text }
    let replacements = [
        "99999999999999999999", "-1", "0", "-9223372036854775808", "9223372036854775807", "1e400", ".nan", "~", "null",
        "20000000000w", "9223372036854775807s", "0s", "31d", "[]", "{}", "[[[[[[]]]]]]", "{a: {b: {c: {}}}}", "*undefined",
        "&anchor x", "\"\\u0000\"", "\"\\e[31m\"", "'''", String(repeating: "z", count: 5000), "tru", "yes", "Ω≈ç√",
        "!!int 12", "? complex", "2026-02-30", "25:61", "mon-sun", "Europe/Nowhere",
    ]
    var out = text
    switch Int.random(in: 0..<4, using: &random) {
    case 0, 1:
        out.replaceSubrange(token, with: replacements.randomElement(using: &random)!)
    case 2:
        // Drop or double one punctuation character next to the token.
        let at = token.lowerBound > text.startIndex ? text.index(before: token.lowerBound) : token.upperBound
        guard at < text.endIndex else { return text }
        if Bool.random(using: &random) { out.remove(at: at) } else { out.insert(text[at], at: at) }
    default:
        out.replaceSubrange(token, with: String(text[token]) + String(text[token]))
    }
    return out
}
