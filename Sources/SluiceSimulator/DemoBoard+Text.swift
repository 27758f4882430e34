/// The board's wording: counts, padding and cutting, in columns of plain text.
extension DemoBoard {
    static func tally(_ states: [HostState]) -> [HostState: Int] {
        Dictionary(grouping: states, by: { $0 }).mapValues(\.count)
    }

    /// ": 1 rolled back, 1 cancelled", worst first; nothing for no hosts.
    static func countsText(_ counts: [HostState: Int]) -> String {
        let parts = counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\(number($0.value)) \($0.key.rawValue)" }
        return parts.isEmpty ? "" : ": " + parts.joined(separator: ", ")
    }

    static func hostCount(_ n: Int) -> String { "\(number(n)) host\(n == 1 ? "" : "s")" }

    /// 9,990: grouped by thousands whatever the locale, as the figures elsewhere in the demo.
    static func number(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    static func trimmed(_ s: String) -> String {
        var s = s
        while s.last == " " { s.removeLast() }
        return s
    }

    /// At most `width` columns; a cut line ends in "…" so that it does not look whole.
    static func fit(_ s: String, _ width: Int) -> String {
        s.count <= width ? s : String(s.prefix(width - 1)) + "…"
    }
}
