/// Durations as people write them in configuration and on command lines: `90s`, `15m`,
/// `2h`, `7d`, or combinations such as `1h30m`.
public enum DurationText {
    /// - Returns: the duration in whole seconds.
    public static func parseSeconds(_ text: String) throws(InvalidInput) -> Int64 {
        guard !text.isEmpty, text.utf8.count <= 32 else {
            throw InvalidInput("invalid duration \(quoted(text)): expected a number and a unit, such as 30s, 15m, 2h or 7d")
        }
        var total: Int64 = 0
        var digits = ""
        var sawUnit = false
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            case "w": unit = 7 * 86400
            default:
                throw InvalidInput("invalid duration \(quoted(text)): unknown unit \(quoted(String(character))) (use s, m, h, d or w)")
            }
            guard let number = Int64(digits) else {
                throw InvalidInput("invalid duration \(quoted(text)): expected a number before \(quoted(String(character)))")
            }
            let (product, overflow) = number.multipliedReportingOverflow(by: unit)
            guard !overflow, total <= Int64.max - product else { throw InvalidInput("invalid duration \(quoted(text)): too long") }
            total += product
            digits = ""
            sawUnit = true
        }
        guard digits.isEmpty, sawUnit else {
            throw InvalidInput("invalid duration \(quoted(text)): a number needs a unit, such as 30s, 15m, 2h or 7d")
        }
        return total
    }
}
