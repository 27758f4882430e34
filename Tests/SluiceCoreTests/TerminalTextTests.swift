import SluiceCore
import Testing

@Suite("Text printed for operators")
struct TerminalTextTests {
    @Test func controlCharactersAndBidiOverridesAreShownEscaped() {
        #expect(TerminalText.escaped("dns\u{1B}]0;pwned\u{07}1") == "dns\\u{1B}]0;pwned\\u{7}1")
        #expect(TerminalText.escaped("a\u{85}b\u{9B}2J") == "a\\u{85}b\\u{9B}2J")
        #expect(TerminalText.escaped("role=\u{202E}revloser-snd") == "role=\\u{202E}revloser-snd")
        #expect(TerminalText.escaped("\u{2066}x\u{2069}\u{200F}\u{061C}\u{2028}") == "\\u{2066}x\\u{2069}\\u{200F}\\u{61C}\\u{2028}")
        #expect(TerminalText.escaped("del\u{7F}") == "del\\u{7F}")
    }

    @Test func ordinaryTextLineFeedsAndTabsAreLeftAsTheyAre() {
        let text = "HOST\tLABELS\nrésolveur-1 région=paris 東京 🚀 — ok\n"
        #expect(TerminalText.escaped(text) == text)
    }

    @Test func everyScalarThatNeedsEscapingIsGoneFromTheOutput() {
        var all = ""
        for value in UInt32(0)...0x2100 { if let scalar = Unicode.Scalar(value) { all.unicodeScalars.append(scalar) } }
        let escaped = TerminalText.escaped(all)
        #expect(!escaped.unicodeScalars.contains(where: TerminalText.needsEscape))
    }
}
