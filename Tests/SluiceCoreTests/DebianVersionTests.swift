import Foundation
import PropertyBased
import Testing

@testable import SluiceCore

/// One ordering fact: `dpkg --compare-versions a <op> b` where `expected` is -1, 0 or 1.
struct OrderingPair: Sendable, CustomTestStringConvertible {
    let a: String
    let b: String
    let expected: Int
    init(_ a: String, _ b: String, _ expected: Int) { (self.a, self.b, self.expected) = (a, b, expected) }
    var testDescription: String { "\(a) \(["<", "=", ">"][expected + 1]) \(b)" }
}

/// dpkg's own comparison table (scripts/t/Dpkg_Version.t, whose rows dpkg's test suite also
/// checks against `dpkg --compare-versions`), then lib/dpkg/t/t-version.c's cases written
/// as strings, then real Debian/Ubuntu shapes. Dpkg_Version.t's rows with `0foo-` and
/// `-0.6.5` are left out: current dpkg refuses them ("revision number is empty", "version
/// number is empty"), and so does DebianVersion (see `rejectsWithExactMessage`).
let dpkgOrderingPairs: [OrderingPair] = [
    .init("1.0-1", "2.0-2", -1), .init("2.2~rc-4", "2.2-1", -1), .init("2.2-1", "2.2~rc-4", 1),
    .init("1.0000-1", "1.0-1", 0), .init("1", "0:1", 0), .init("0", "0:0-0", 0), .init("2:2.5", "1:7.5", 1),
    .init("1:0foo", "0foo", 1), .init("0:0foo", "0foo", 0), .init("0foo", "0foo", 0), .init("0foo", "0fo", 1),
    .init("0foo~1", "0foo", -1), .init("0foo~foo+Bar", "0foo~foo+bar", -1), .init("0foo~~", "0foo~", -1),
    .init("1~", "1", -1), .init("12345+that-really-is-some-ver-0", "12345+that-really-is-some-ver-10", -1),
    .init("0foo-0", "0foo-01", -1), .init("0foo.bar", "0foobar", 1), .init("0foo.bar", "0foo1bar", 1),
    .init("0foo.bar", "0foo0bar", 1), .init("0foo1bar-1", "0foobar-1", -1), .init("0foo2.0", "0foo2", 1),
    .init("0foo2.0.0", "0foo2.10.0", -1), .init("0foo2.0", "0foo2.0.0", -1), .init("0foo2.0", "0foo2.10", -1),
    .init("0foo2.1", "0foo2.10", -1), .init("1.09", "1.9", 0), .init("1.0.8+nmu1", "1.0.8", 1),
    .init("3.11", "3.10+nmu1", 1), .init("0.9j-20080306-4", "0.9i-20070324-2", 1), .init("1.2.0~b7-1", "1.2.0~b6-1", 1),
    .init("1.011-1", "1.06-2", 1), .init("0.0.9+dfsg1-1", "0.0.8+dfsg1-3", 1), .init("4.6.99+svn6582-1", "4.6.99+svn6496-1", 1),
    .init("53", "52", 1), .init("0.9.9~pre122-1", "0.9.9~pre111-1", 1), .init("2:2.3.2-2+lenny2", "2:2.3.2-2", 1),
    .init("1:3.8.1-1", "3.8.GA-1", 1), .init("1.0.1+gpl-1", "1.0.1-2", 1), .init("1a", "1000a", -1),
    // lib/dpkg/t/t-version.c
    .init("1-1", "2-1", -1), .init("1-1", "1-2", -1), .init("0-00", "00-0", 0), .init("1:2-3", "1:2-3", 0),
    .init("0-0", "1:0-0", -1), .init("0:0-0-0", "0-0-0", 0), .init("0:0:0-0", "0:0.0-0", 1),
    // Debian and Ubuntu release shapes
    .init("1.0~rc1", "1.0", -1), .init("1:0.1", "2.0", 1), .init("1.0-1", "1.0-1~bpo12+1", 1),
    .init("2.36-9+deb12u4", "2.36-9+deb12u10", -1), .init("3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.12", -1),
    .init("1:9.18.28-1~deb12u2", "1:9.18.24-1", 1), .init("9.18.28-1~deb12u2", "1:9.18.24-1", -1),
    .init("2.7.4-0ubuntu1.4", "2.7.4-0ubuntu1", 1), .init("1.0+dfsg-1", "1.0-1", 1), .init("6.1.0-28", "6.1.0-28+b1", -1),
    .init("1.0-1+b1", "1.0-1.1", -1), .init("1.2.3~~", "1.2.3~", -1), .init("1.2.3~", "1.2.3~rc1", -1),
    .init("1.2.3~rc1", "1.2.3", -1), .init("1.2.3", "1.2.3+b1", -1), .init("1.2.3+b1", "1.2.3.1", -1),
    .init("1.0a", "1.0", 1), .init("1.0a", "1.0.1", -1), .init("1.0a", "1.01", -1), .init("1.0A", "1.0a", -1),
    .init("1.0", "1.0-0", 0), .init("1.0-0", "1.0-00", 0), .init("1.10", "1.9", 1), .init("1.010", "1.10", 0),
    .init("01:1.0", "1:1.0", 0), .init("1:2:3-1", "1:2.3-1", 1),
    .init("1.123456789012345678901234567890", "1.123456789012345678901234567889", 1),
]

/// Runs the real dpkg, with an argv and never through a shell.
enum DpkgOracle {
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/dpkg" }.first(where: FileManager.default.isExecutableFile)
    }()

    /// `dpkg --compare-versions -- a op b`: true on exit 0, false on 1, nil when dpkg
    /// refused the input (exit 2, a syntax error) or could not run.
    static func holds(_ a: String, _ op: String, _ b: String) -> Bool? {
        guard let executable else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--compare-versions", "--", a, op, b]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        process.waitUntilExit()
        switch process.terminationStatus {
        case 0: return true
        case 1: return false
        default: return nil
        }
    }

    /// dpkg's verdict as -1, 0 or 1 (nil when dpkg refused either version).
    static func compare(_ a: String, _ b: String) -> Int? {
        guard let less = holds(a, "lt", b) else { return nil }
        if less { return -1 }
        guard let equal = holds(a, "eq", b) else { return nil }
        return equal ? 0 : 1
    }
}

/// A valid version assembled from known parts, so round-trips can check each component.
struct GeneratedVersion: Sendable, CustomStringConvertible {
    let epochText: String
    let upstream: String
    let revision: String
    var description: String {
        (epochText.isEmpty ? "" : epochText + ":") + upstream + (revision.isEmpty ? "" : "-" + revision)
    }
}

private func characters(_ alphabet: String) -> Generator<Character, Shrink.None<Character?>> {
    Gen<Character?>.element(of: Array(alphabet)).map { $0! }
}

/// Small alphabets, so the interesting near-ties (`~` against the end, `0` against `00`,
/// `+` against `.`, letters against other punctuation) come up constantly.
let generatedVersions: Generator<GeneratedVersion, some SendableSequenceType> = zip(
    // Epochs are mostly absent or zero (and sometimes "00"), so most pairs are decided
    // by upstream and revision rather than by the epoch.
    characters("0001").string(of: 0...2), characters("01"), characters("0019aZz.+~~-:").string(of: 0...5),
    characters("019aZ.+~").string(of: 0...3)
).map { parts in
    let (epoch, head, tail, revision) = parts
    // Policy: a hyphen in upstream needs a revision, a colon in upstream needs an epoch.
    let tailCharacters = tail.map { (revision.isEmpty && $0 == "-") || (epoch.isEmpty && $0 == ":") ? "." : $0 }
    let upstream = String(head) + String(tailCharacters)
    return GeneratedVersion(epochText: epoch, upstream: upstream, revision: revision)
}

private func version(_ text: String) throws -> DebianVersion { try DebianVersion(parsing: text) }

private let versionCharacters = #"only A-Z, a-z, 0-9, ".", "+", "~", "-" and ":" are allowed"#

@Suite struct DebianVersionTests {
    @Test func orderingTableHasAtLeastFortyPairs() {
        #expect(dpkgOrderingPairs.count >= 40)
    }

    @Test(arguments: dpkgOrderingPairs)
    func compareMatchesDpkgTestSuite(_ pair: OrderingPair) throws {
        let a = try version(pair.a)
        let b = try version(pair.b)
        #expect(a.compare(b) == pair.expected)
        #expect(b.compare(a) == -pair.expected)
        #expect((a < b) == (pair.expected < 0))
        #expect((a > b) == (pair.expected > 0))
        #expect((a <= b) == (pair.expected <= 0))
    }

    @Test(.enabled(if: DpkgOracle.executable != nil, "dpkg is not on PATH"), arguments: dpkgOrderingPairs)
    func installedDpkgAgreesWithOrderingTable(_ pair: OrderingPair) throws {
        #expect(DpkgOracle.compare(pair.a, pair.b) == pair.expected)
        #expect(DpkgOracle.holds(pair.a, "lt", pair.b) == (try version(pair.a) < version(pair.b)))
    }

    @Test func componentsAreSplitAtFirstColonAndLastHyphen() throws {
        let bind = try version("1:9.18.28-1~deb12u2")
        #expect((bind.epoch, bind.upstream, bind.revision) == (1, "9.18.28", "1~deb12u2"))
        let plain = try version("2.36")
        #expect((plain.epoch, plain.upstream, plain.revision) == (0, "2.36", ""))
        let everything = try version("0:09azAZ.-+~:-azAZ09.+~")
        #expect((everything.upstream, everything.revision) == ("09azAZ.-+~:", "azAZ09.+~"))
        let hyphens = try version("0:0-0-0-0")
        #expect((hyphens.upstream, hyphens.revision) == ("0-0-0", "0"))
        #expect(try version("2147483647:1").epoch == 2_147_483_647)
    }

    @Test func descriptionIsTheOriginalText() throws {
        for text in ["01:1.0", "0:1.0-0", "1.0000-1", "1:2:3-1"] {
            #expect(try version(text).description == text)
            #expect(DebianVersion(text)?.description == text)
        }
        #expect(DebianVersion("not a version") == nil)
    }

    @Test func sameVersionToDpkgIsNotNecessarilyEqual() throws {
        let short = try version("1.0")
        let long = try version("1.00")
        #expect(short.compare(long) == 0)
        #expect(short != long)
        #expect(short <= long && short >= long && !(short < long))
        // Equality is by parsed component, so a spelled-out zero epoch is ==.
        #expect(try version("0:1.0") == short)
        #expect(try version("01:1.0") == version("1:1.0"))
        #expect(Set([short, try version("0:1.0"), long]).count == 2)
    }

    @Test func sortingFollowsDpkgOrder() throws {
        let ordered = [
            "1.2.3~~", "1.2.3~", "1.2.3~rc1", "1.2.3", "1.2.3-1~bpo12+1", "1.2.3-1", "1.2.3-1+b1", "1.2.3-1.1",
            "1.2.3a", "1.2.3+dfsg", "1.2.3.1", "1.2.10", "1:0.1",
        ]
        let shuffled = try ordered.reversed().map(version)
        #expect(shuffled.sorted().map(\.description) == ordered)
    }

    @Test(arguments: [
        ("", "must not be empty"),
        ("1.0;rm -rf /", #"contains invalid character ";"; "# + versionCharacters),
        ("$(id)", #"contains invalid character "$"; "# + versionCharacters),
        ("1.0`id`", #"contains invalid character "`"; "# + versionCharacters),
        (" 1.0", #"contains invalid character " "; "# + versionCharacters),
        ("1.0\n", #"contains invalid character "\n"; "# + versionCharacters),
        ("1.0\0", #"contains invalid character "\0"; "# + versionCharacters),
        ("1.0\u{1B}[2J", #"contains invalid character "\u{1B}"; "# + versionCharacters),
        ("1.0\u{202E}", #"contains invalid character "\u{202E}"; "# + versionCharacters),
        ("--purge", #"must not start with "-""#),
        ("-oDebug::pkgProblemResolver=1", #"must not start with "-""#),
        ("-1:0-1", #"must not start with "-""#),
        ("-0.6.5", #"must not start with "-""#),
        ("a:1.0", #"epoch "a" is not an unsigned integer"#),
        ("A:0-0", #"epoch "A" is not an unsigned integer"#),
        (":1.0", #"epoch before ":" is empty"#),
        ("1.0:2", #"epoch "1.0" is not an unsigned integer (a ":" in the upstream version needs an explicit epoch)"#),
        ("999999999999999999999999:0-1", #"epoch "999999999999999999999999" is larger than 2147483647"#),
        ("2147483648:1", #"epoch "2147483648" is larger than 2147483647"#),
        ("1.0-", #"revision after the last "-" is empty"#),
        ("0foo-", #"revision after the last "-" is empty"#),
        ("1:1.0-1:2", #"revision "1:2" contains invalid character ":"; only A-Z, a-z, 0-9, "+", "." and "~" are allowed"#),
        ("1:", "upstream version is empty"),
        ("0:-0", "upstream version is empty"),
        ("abc3-0", #"upstream version "abc3" must start with a digit"#),
        ("0:abc3-0", #"upstream version "abc3" must start with a digit"#),
        ("~1", #"upstream version "~1" must start with a digit"#),
    ])
    func rejectsWithExactMessage(input: String, reason: String) {
        let error = #expect(throws: PackageSyntaxError.self) { try DebianVersion(parsing: input) }
        #expect(error?.subject == .version)
        #expect(error?.input == input)
        #expect(error?.description == "invalid version \(PackageSyntaxError.quote(input)): \(reason)")
    }

    @Test func messagesQuoteHostileInputOnOneLine() {
        let error = #expect(throws: PackageSyntaxError.self) { try DebianVersion(parsing: "1.0\n\"x\"\\") }
        #expect(error?.description == #"invalid version "1.0\n\"x\"\\": contains invalid character "\n"; "# + versionCharacters)
        let long = String(repeating: "1", count: 257)
        let tooLong = #expect(throws: PackageSyntaxError.self) { try DebianVersion(parsing: long) }
        let shown = String(repeating: "1", count: 64) + "…"
        #expect(tooLong?.description == "invalid version \"\(shown)\": is 257 characters long; the limit is 256")
        #expect(throws: Never.self) { try DebianVersion(parsing: String(repeating: "1", count: 256)) }
    }

    @Test func codableUsesTheOriginalStringAndRefusesInvalidText() throws {
        let data = try JSONEncoder().encode(["v": try version("01:1.0-1")])
        #expect(String(decoding: data, as: UTF8.self) == #"{"v":"01:1.0-1"}"#)
        #expect(try JSONDecoder().decode([String: DebianVersion].self, from: data)["v"]?.description == "01:1.0-1")
        let bad = Data(#"{"v":"1.0;id"}"#.utf8)
        let error = #expect(throws: DecodingError.self) { try JSONDecoder().decode([String: DebianVersion].self, from: bad) }
        guard case .dataCorrupted(let context)? = error else {
            Issue.record("expected dataCorrupted, got \(String(describing: error))")
            return
        }
        #expect(context.debugDescription == #"invalid version "1.0;id": contains invalid character ";"; "# + versionCharacters)
    }

    // MARK: Properties

    @Test func parsingTheDescriptionRoundTrips() async {
        await propertyCheck(count: 500, input: generatedVersions) { generated in
            let parsed = try version(generated.description)
            #expect(parsed.description == generated.description)
            #expect(parsed.epoch == (Int(generated.epochText) ?? 0))
            #expect(parsed.upstream == generated.upstream)
            #expect(parsed.revision == generated.revision)
            #expect(try version(parsed.description) == parsed)
            #expect(DebianVersion(parsed.description) == parsed)
        }
    }

    @Test func compareIsAntisymmetricAndConsistentWithOperators() async {
        await propertyCheck(count: 500, input: generatedVersions, generatedVersions) { x, y in
            let a = try version(x.description)
            let b = try version(y.description)
            #expect(a.compare(a) == 0)
            #expect(a.compare(b) == -b.compare(a))
            #expect([-1, 0, 1].contains(a.compare(b)))
            #expect((a < b) == (a.compare(b) < 0))
            if a == b { #expect(a.compare(b) == 0) }
        }
    }

    @Test func compareIsTransitive() async {
        await propertyCheck(count: 500, input: generatedVersions, generatedVersions, generatedVersions) { x, y, z in
            let all = try [x, y, z].map { try version($0.description) }
            for p in all {
                for q in all where p.compare(q) <= 0 {
                    for r in all where q.compare(r) <= 0 {
                        #expect(p.compare(r) <= 0, "\(p) <= \(q) <= \(r)")
                        if p.compare(q) == 0 && q.compare(r) == 0 { #expect(p.compare(r) == 0) }
                    }
                }
            }
        }
    }

    @Test(.enabled(if: DpkgOracle.executable != nil, "dpkg is not on PATH"))
    func compareAgreesWithInstalledDpkg() async {
        await propertyCheck(count: 200, input: generatedVersions, generatedVersions) { x, y in
            let ours = try version(x.description).compare(version(y.description))
            #expect(DpkgOracle.compare(x.description, y.description) == ours, "\(x) vs \(y)")
        }
    }

    /// Random pairs mostly differ early; a one-character edit of the same version
    /// exercises the deep cases (`~` against the end, a longer digit run, `+` against `.`).
    @Test(.enabled(if: DpkgOracle.executable != nil, "dpkg is not on PATH"))
    func compareAgreesWithInstalledDpkgOnNearbyVersions() async {
        let edits = zip(Gen.int(in: 0...12), characters("0~.+a1-"))
        await propertyCheck(count: 200, input: generatedVersions, edits) { x, edit in
            var text = Array(x.description)
            text.insert(edit.1, at: min(edit.0, text.count))
            guard let y = DebianVersion(String(text)) else { return }
            let ours = try version(x.description).compare(y)
            #expect(DpkgOracle.compare(x.description, y.description) == ours, "\(x) vs \(y)")
        }
    }

    /// Leading zeros, an explicit `0:` epoch and an explicit `-0` revision do not change
    /// what a version means to dpkg, although the spelling (and `==`) differs.
    @Test func zeroPaddedSpellingsCompareEqual() async {
        await propertyCheck(count: 300, input: generatedVersions) { x in
            func pad(_ text: String) -> String {
                var out = ""
                var previous: Character?
                for c in text {
                    if c.isASCII, c.isNumber, !(previous?.isNumber ?? false) { out.append("0") }
                    out.append(c)
                    previous = c
                }
                return out
            }
            let epoch = x.epochText.isEmpty ? "0" : pad(x.epochText)
            let revision = x.revision.isEmpty ? "0" : pad(x.revision)
            let padded = try version("\(epoch):\(pad(x.upstream))-\(revision)")
            let original = try version(x.description)
            #expect(original.compare(padded) == 0, "\(x) vs \(padded)")
            if DpkgOracle.executable != nil {
                #expect(DpkgOracle.holds(x.description, "eq", padded.description) == true, "\(x) vs \(padded)")
            }
        }
    }

    @Test(.enabled(if: DpkgOracle.executable != nil, "dpkg is not on PATH"))
    func everyAcceptedVersionIsAcceptedByDpkg() async {
        let noisy = characters("0011:-.+~aZ; \n").string(of: 1...8)
        await propertyCheck(count: 1000, input: noisy) { text in
            guard let parsed = DebianVersion(text) else { return }
            #expect(DpkgOracle.holds(parsed.description, "eq", parsed.description) == true, "\(parsed)")
        }
    }
}
