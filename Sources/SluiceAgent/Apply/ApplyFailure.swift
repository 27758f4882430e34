import SluiceCore

/// Why an apply stopped where it did: the outcome it leads to, one line for people, and the
/// output of the command or check that decided it.
struct ApplyFailure: Error, Sendable {
    var outcome: ApplyOutcome
    var detail: String
    var output: String?

    init(_ outcome: ApplyOutcome, _ detail: String, output: String? = nil) {
        self.outcome = outcome
        self.detail = detail
        self.output = output
    }
}

/// Output kept in reports and the journal: at most `limit` bytes, the head and the tail
/// (apt and dpkg put the reason at the end), decoded leniently.
func boundedOutput(_ text: String, limit: Int = 8192) -> String {
    let trimmed = text.stripped()
    let bytes = Array(trimmed.utf8)
    guard bytes.count > limit else { return trimmed }
    let half = limit / 2
    return String(decoding: bytes.prefix(half), as: UTF8.self) + "\n…\n" + String(decoding: bytes.suffix(half), as: UTF8.self)
}

/// stdout and stderr of a command, joined, bounded.
func combinedOutput(_ result: CommandResult) -> String {
    let parts = [result.stdout, result.stderr].map { $0.stripped() }.filter { !$0.isEmpty }
    return boundedOutput(parts.joined(separator: "\n"))
}

/// The last line that starts with `E:` (apt's error), else the first stderr line, else the
/// last non-empty output line: the one line a report's detail can carry.
func keyLine(_ result: CommandResult) -> String {
    let lines = (result.stdout + "\n" + result.stderr).split(whereSeparator: \.isNewline).map { $0.stripped() }
    if let error = lines.last(where: { $0.hasPrefix("E: ") }) { return CommandError.oneLine(error) }
    if let first = result.firstStderrLine { return CommandError.oneLine(first) }
    return CommandError.oneLine(lines.last(where: { !$0.isEmpty }) ?? "exit status \(result.status)")
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs, carriage returns and newlines.
    func stripped() -> String {
        let blanks: Set<Unicode.Scalar> = [" ", "\t", "\r", "\n"]
        var view = Substring(self)
        while let first = view.unicodeScalars.first, blanks.contains(first) { view = Substring(view.unicodeScalars.dropFirst()) }
        while let last = view.unicodeScalars.last, blanks.contains(last) { view = Substring(view.unicodeScalars.dropLast()) }
        return String(view)
    }
}
