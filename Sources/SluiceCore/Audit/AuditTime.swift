import Foundation

/// A wall-clock reading in one time zone: what a person in that zone saw on the clock.
public struct CivilTime: Sendable, Equatable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var millisecond: Int
    /// The zone's offset from UTC at that instant, daylight saving included.
    public var offsetSeconds: Int
}

/// Instants as the audit commands read and print them. Times are stored as UTC
/// milliseconds; they are shown in the reader's zone, daylight saving time included.
public enum AuditTime {
    static let months = ["Jan.", "Feb.", "Mar.", "Apr.", "May", "Jun.", "Jul.", "Aug.", "Sep.", "Oct.", "Nov.", "Dec."]

    /// A zone by IANA name (`Europe/Paris`), or `UTC`.
    public static func zone(named name: String) throws(InvalidInput) -> TimeZone {
        if ["UTC", "utc", "Z", "GMT"].contains(name) { return TimeZone(secondsFromGMT: 0)! }
        guard let zone = TimeZone(identifier: name) else {
            throw InvalidInput("unknown time zone \(quoted(name)): use an IANA name such as Europe/Paris, or UTC")
        }
        return zone
    }

    /// The reading of `ms` on a clock in `zone`.
    public static func civil(_ ms: Int64, in zone: TimeZone) -> CivilTime {
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(ms) / 1000))
        let local = ms + Int64(offset) * 1000
        let days = floorDivide(local, 86_400_000)
        let inDay = local - days * 86_400_000
        let (year, month, day) = civilDate(days: days)
        return CivilTime(
            year: year, month: month, day: day, hour: Int(inDay / 3_600_000), minute: Int(inDay / 60_000 % 60),
            second: Int(inDay / 1000 % 60), millisecond: Int(inDay % 1000), offsetSeconds: offset)
    }

    /// `Jul. 24 08:20:31`, as a postmortem's timeline writes it.
    /// - Parameters:
    ///   - milliseconds: append `.123`.
    ///   - year: lead with the year, for listings that span more than one.
    ///   - offset: append the UTC offset (`+02:00`), for listings that span a daylight saving change.
    public static func short(_ ms: Int64, in zone: TimeZone, milliseconds: Bool = false, year: Bool = false, offset: Bool = false) -> String {
        let c = civil(ms, in: zone)
        var out = year ? "\(c.year) " : ""
        out += "\(months[c.month - 1]) \(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second))"
        if milliseconds { out += "." + three(c.millisecond) }
        if offset { out += " " + offsetText(c.offsetSeconds) }
        return out
    }

    /// RFC 3339 with milliseconds: `2024-07-24T08:20:31.000+02:00`, or `...Z` in UTC.
    public static func rfc3339(_ ms: Int64, in zone: TimeZone? = nil) -> String {
        let c = civil(ms, in: zone ?? TimeZone(secondsFromGMT: 0)!)
        let date = "\(four(c.year))-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second)).\(three(c.millisecond))"
        return date + (zone.map(isUTC) ?? true ? "Z" : offsetText(c.offsetSeconds))
    }

    /// `+02:00`, `-04:00`, `+05:30`.
    public static func offsetText(_ seconds: Int) -> String {
        let minutes = abs(seconds) / 60
        return (seconds < 0 ? "-" : "+") + two(minutes / 60) + ":" + two(minutes % 60)
    }

    /// `Europe/Paris (UTC+2, summer time)`, for the header of a listing; with every offset
    /// the listing's instants fall in when they span a daylight saving change.
    public static func describe(_ zone: TimeZone, instants: [Int64]) -> String {
        var seen: [(Int, Bool)] = []
        for ms in instants.isEmpty ? [0] : instants {
            let date = Date(timeIntervalSince1970: Double(ms) / 1000)
            let entry = (zone.secondsFromGMT(for: date), zone.isDaylightSavingTime(for: date))
            if !seen.contains(where: { $0 == entry }) { seen.append(entry) }
        }
        let parts = seen.map { offset, dst in
            let minutes = abs(offset) / 60
            let hours = "UTC" + (offset < 0 ? "-" : "+") + String(minutes / 60) + (minutes % 60 == 0 ? "" : ":" + two(minutes % 60))
            return hours + (dst ? ", summer time" : "")
        }
        return isUTC(zone) ? "UTC" : "\(zone.identifier) (\(parts.joined(separator: " then ")))"
    }

    /// Whether `zone` is UTC under one of its names (Linux calls it GMT).
    public static func isUTC(_ zone: TimeZone) -> Bool {
        ["UTC", "GMT", "UCT", "Zulu", "Universal", "GMT0", "Etc/UTC", "Etc/GMT", "Etc/UCT", "Etc/Zulu", "Etc/Universal", "Etc/GMT0"]
            .contains(zone.identifier)
    }

    /// Reads `--since` and `--until`: an RFC 3339 date-time (`2024-07-24T08:20:00Z`,
    /// `2024-07-24T08:20:00.5+02:00`), a date-time without offset or a date
    /// (`2024-07-24`, midnight) read in `zone`, `now`, or a duration back from now (`2h`, `7d`, `1h30m`).
    public static func parseInstant(_ text: String, nowMs: Int64, zone: TimeZone) throws(InvalidInput) -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "now" { return nowMs }
        if let first = trimmed.first, first.isNumber, trimmed.count >= 10, Array(trimmed)[4] == "-" {
            return try parseDateTime(trimmed, zone: zone)
        }
        do {
            // A duration past what milliseconds can hold is refused, not an overflow trap.
            let (back, overflow) = try DurationText.parseSeconds(trimmed).multipliedReportingOverflow(by: 1000)
            guard !overflow else { throw InvalidInput("too long") }
            return nowMs - back
        } catch {
            throw InvalidInput("invalid time \(quoted(text)): expected RFC 3339 (2024-07-24T08:20:00Z), a date (2024-07-24) or a duration back from now (2h, 7d)")
        }
    }

    static func parseDateTime(_ text: String, zone: TimeZone) throws(InvalidInput) -> Int64 {
        let chars = Array(text)
        let fail = InvalidInput("invalid time \(quoted(text)): expected RFC 3339 such as 2024-07-24T08:20:00Z or 2024-07-24T10:20:00+02:00")
        func number(_ from: Int, _ count: Int) throws(InvalidInput) -> Int {
            guard from + count <= chars.count, let value = Int(String(chars[from..<from + count])),
                chars[from..<from + count].allSatisfy(\.isASCII)
            else { throw fail }
            return value
        }
        let year = try number(0, 4), month = try number(5, 2), day = try number(8, 2)
        guard chars[4] == "-", chars[7] == "-", (1...12).contains(month), (1...31).contains(day) else { throw fail }
        var hour = 0, minute = 0, second = 0, millisecond = 0
        var index = 10
        if chars.count > 10 {
            guard ["T", "t", " "].contains(chars[10]), chars.count >= 16, chars[13] == ":" else { throw fail }
            hour = try number(11, 2)
            minute = try number(14, 2)
            index = 16
            if index < chars.count, chars[index] == ":" {
                second = try number(17, 2)
                index = 19
            }
            if index < chars.count, chars[index] == "." {
                var digits = ""
                index += 1
                while index < chars.count, chars[index].isASCII, chars[index].isNumber {
                    digits.append(chars[index])
                    index += 1
                }
                guard !digits.isEmpty else { throw fail }
                millisecond = Int((digits + "00").prefix(3))!
            }
            guard hour < 24, minute < 60, second < 61 else { throw fail }
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let local = days * 86_400_000 + Int64(hour * 3_600_000 + minute * 60_000 + second * 1000 + millisecond)
        if index == chars.count {
            // No offset: a reading of the clock in `zone`; find the instant it names.
            let guess = local - Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local) / 1000))) * 1000
            return local - Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(guess) / 1000))) * 1000
        }
        let rest = String(chars[index...])
        if rest == "Z" || rest == "z" { return local }
        guard rest.count == 6, let sign = rest.first, sign == "+" || sign == "-", Array(rest)[3] == ":",
            let hours = Int(rest.dropFirst().prefix(2)), let minutes = Int(rest.suffix(2)), hours < 24, minutes < 60
        else { throw fail }
        let offset = Int64((hours * 60 + minutes) * 60_000)
        return sign == "+" ? local - offset : local + offset
    }

    /// `40 min 30 s`, `5 min`, `10 s`, `250 ms`, `2 h 5 min`, `0`: durations in a postmortem.
    public static func duration(_ ms: Int64) -> String {
        if ms <= 0 { return "0" }
        if ms < 1000 { return "\(ms) ms" }
        let seconds = ms / 1000
        if seconds < 60 { return "\(seconds) s" }
        let minutes = seconds / 60
        if minutes < 60 { return seconds % 60 == 0 ? "\(minutes) min" : "\(minutes) min \(seconds % 60) s" }
        let hours = minutes / 60
        if hours < 48 { return minutes % 60 == 0 ? "\(hours) h" : "\(hours) h \(minutes % 60) min" }
        return hours % 24 == 0 ? "\(hours / 24) d" : "\(hours / 24) d \(hours % 24) h"
    }

    // MARK: Calendar arithmetic (proleptic Gregorian; H. Hinnant's algorithms)

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDivide(y, 400)
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilDate(days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (month <= 2 ? 1 : 0)), Int(month), Int(day))
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
    static func three(_ n: Int) -> String { n < 10 ? "00\(n)" : n < 100 ? "0\(n)" : String(n) }
    static func four(_ n: Int) -> String { n < 1000 ? String(repeating: "0", count: 4 - String(n).count) + String(n) : String(n) }
}
