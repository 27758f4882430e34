import Foundation
import SluiceCore
import Testing

@testable import SluiceYAML

/// Damaged unattended-upgrades files: each gives one line `file:line: ...`, or a policy the
/// loader accepts (never YAML the import itself cannot load), and never a crash. Seeded.
@Suite("unattended-upgrades import fuzzing")
struct UnattendedUpgradesImportFuzzTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/unattended-upgrades").path

    /// Translates `text`; on an error, checks that it is one line naming the file and a line.
    @discardableResult
    static func translateOrRefuse(_ text: String, _ context: String) -> UnattendedUpgradesImport.Result? {
        do {
            return try UnattendedUpgradesImport.translate(text, file: "fuzz", options: .init(distroIDs: ["Ubuntu"]))
        } catch {
            #expect(!error.message.contains("\n"), "\(context): \(error.message)")
            #expect(error.message.range(of: #"^fuzz:[0-9]+: "#, options: .regularExpression) != nil, "\(context): \(error.message)")
            #expect(!error.message.contains("a defect of import-uu"), "\(context): \(error.message)")
            return nil
        }
    }

    @Test(arguments: ["50unattended-upgrades.Debian", "50unattended-upgrades.Ubuntu"])
    func damagedShippedFilesGiveAPolicyOrOneLine(_ name: String) throws {
        let original = Array(try String(contentsOfFile: Self.fixtures + "/" + name, encoding: .utf8).unicodeScalars)
        let significant = Array("{};\"/*#:=,$\\[]!^()|.+?\n \u{85}\u{2028}".unicodeScalars)
        var random = SplitMix64(seed: name.hasSuffix("Debian") ? 0xDEB : 0x0B0)
        var translated = 0, refused = 0
        for round in 0..<300 {
            var text = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<text.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: text.remove(at: at)
                case 1: text.insert(significant.randomElement(using: &random)!, at: at)
                default: text[at] = significant.randomElement(using: &random)!
                }
            }
            if Self.translateOrRefuse(String(String.UnicodeScalarView(text)), "\(name) round \(round)") != nil {
                translated += 1
            } else {
                refused += 1
            }
        }
        // Comments take most damage harmlessly; damage to the statements is refused.
        #expect(translated > 0 && refused > 0)
    }

    @Test func randomBytesGiveAPolicyOrOneLine() {
        var random = SplitMix64(seed: 0xA97)
        let aptish = Array("Unattended-Upgrade::Origins-Pattern Package-Blacklist { } ; \" // /* */ # o=a, $ {distro_id} \\ [ ] \n".utf8)
        for round in 0..<300 {
            Self.translateOrRefuse(randomText(round: round, alphabet: aptish, using: &random), "round \(round)")
        }
    }
}
