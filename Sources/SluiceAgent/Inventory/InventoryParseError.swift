import SluiceCore

/// Output from dpkg or apt that the agent refuses to interpret. The ``description`` is one
/// line naming the source, the line number and what is wrong, with the offending text
/// quoted and cut, for example
/// `apt-get -s dist-upgrade line 12: unreadable Inst line "Inst foo [1.0] (garbage": no ")" closes the candidate`.
public struct InventoryParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The command or file the text came from, such as `dpkg-query` or `apt-get -s dist-upgrade`.
    public let source: String
    /// The 1-based line number, or `nil` when the problem is not about one line.
    public let line: Int?
    /// What is wrong, including the quoted offending text.
    public let reason: String

    /// - Parameters:
    ///   - source: the command or file the text came from.
    ///   - line: the 1-based line number, if the problem is about one line.
    ///   - reason: what is wrong.
    public init(source: String, line: Int?, reason: String) {
        self.source = source
        self.line = line
        self.reason = reason
    }

    /// One line: `<source> line <n>: <reason>`.
    public var description: String {
        if let line { return "\(source) line \(line): \(reason)" }
        return "\(source): \(reason)"
    }
}

/// Splits command output into lines without copying it (`\n` or `\r\n` separated, which
/// Swift sees as one `Character`), with 1-based numbers for error messages.
func numberedLines(_ text: String) -> [(number: Int, text: Substring)] {
    var result: [(number: Int, text: Substring)] = []
    var number = 0
    for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
        number += 1
        result.append((number, raw))
    }
    if let last = result.last, last.text.isEmpty { result.removeLast() }
    return result
}

/// The longest line any parser here looks at; apt and dpkg never print lines near this.
let maxLineLength = 64 * 1024
