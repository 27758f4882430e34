/// Text from hosts and operators made safe to print on an operator's terminal.
///
/// Labels, health details and other text a host sends are stored as given, but a compromised
/// host could put terminal controls in them: C0 and C1 control characters (escape sequences
/// that move the cursor, rewrite lines or set the window title) and bidirectional overrides
/// (text that reads differently from what it holds). Wherever such text is printed for
/// people, each of those characters is shown as `\u{XXXX}` instead. Line feeds and tabs stay:
/// the output's own layout uses them.
public enum TerminalText {
    /// `text` with every control character but line feed and tab, and every bidirectional
    /// formatting character, replaced by its `\u{XXXX}` spelling.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Whether a character is a control (C0 but line feed and tab, DEL, C1), a line or paragraph
    /// separator, or a bidirectional mark, embedding, override or isolate.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: return false
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
