import Foundation
import SluiceCore

/// unattended-upgrades' two ways of naming origins, read as it reads them:
/// `Allowed-Origins` items `"origin:archive"` (a `\:` is a colon in the origin) and
/// `Origins-Pattern` items `"key=value,key=value"` (`\,` is a comma in a value; keys `o`/`origin`,
/// `l`/`label`, `a`/`archive`/`suite`, `n`/`codename`, `c`/`component`, `site`). Values are
/// Python `fnmatch` globs with `string.Template` variables (`${distro_id}`, `${distro_codename}`,
/// `${distro_release}`).
enum OriginText {
    struct Untranslatable: Error {
        let reason: String
    }

    typealias Field = (key: String, value: String)

    /// `"Debian:bookworm-security"` (or, without a colon, two words) as origin and archive.
    static func allowedOrigin(_ text: String) throws(Untranslatable) -> [Field] {
        var parts: [String] = [""]
        var previous: Character?
        for c in text {
            if c == ":" && previous != "\\" { parts.append("") } else { parts[parts.count - 1].append(c) }
            previous = c
        }
        if parts.count == 1 { parts = text.split(whereSeparator: \.isWhitespace).map(String.init) }
        guard parts.count == 2 else {
            throw Untranslatable(reason: "expected \"origin:archive\" (unattended-upgrades itself stops on this item)")
        }
        return [("o", parts[0].replacingOccurrences(of: "\\:", with: ":")), ("a", parts[1])]
    }

    /// `"origin=Debian,codename=${distro_codename},label=Debian-Security"` as its fields.
    static func originsPattern(_ text: String) throws(Untranslatable) -> [Field] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw Untranslatable(reason: "an empty pattern matches nothing") }
        let comma = "\u{0}"
        var fields: [Field] = []
        for token in trimmed.replacingOccurrences(of: "\\,", with: comma).split(separator: ",", omittingEmptySubsequences: false) {
            let sides = token.split(separator: "=", omittingEmptySubsequences: false)
            guard sides.count == 2 else {
                throw Untranslatable(reason: "\(quoted(String(token))) is not key=value (unattended-upgrades itself stops on it)")
            }
            let key = sides[0].trimmingCharacters(in: .whitespaces)
            let value = sides[1].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: comma, with: ",")
            fields.append((key, value))
        }
        return fields
    }

    /// The Sluice origin pattern of these fields, with `${distro_id}` as `distroID`.
    static func pattern(_ fields: [Field], distroID: String?) throws(Untranslatable) -> OriginPattern {
        var pattern = OriginPattern()
        for (key, raw) in fields {
            let value = try glob(expanding(raw, distroID: distroID))
            guard !value.isEmpty else { throw Untranslatable(reason: "\(key) is empty: it matches only an origin without one") }
            guard !value.replacingOccurrences(of: "${distro_codename}", with: "").contains("${") else {
                throw Untranslatable(reason: "a literal ${ (from $${) cannot be written in a Sluice origin pattern")
            }
            let path: WritableKeyPath<OriginPattern, String?>
            switch key {
            case "o", "origin": path = \.origin
            case "l", "label": path = \.label
            case "a", "archive", "suite": path = \.archive
            case "n", "codename": path = \.codename
            case "c", "component": path = \.component
            case "site": throw Untranslatable(reason: "site (the mirror's host name) has no Sluice origin field")
            default: throw Untranslatable(reason: "unknown field \(quoted(key)) (unattended-upgrades itself stops on it)")
            }
            if let earlier = pattern[keyPath: path], earlier != value {
                throw Untranslatable(reason: "\(key) is given twice with different values")
            }
            pattern[keyPath: path] = value
        }
        return pattern
    }

    /// Whether `text` uses the template variable `name` (`$name` or `${name}`).
    static func uses(_ name: String, in text: String) -> Bool {
        var found = false
        _ = try? substitute(text) { variable throws(Untranslatable) in
            if variable == name { found = true }
            return ""
        }
        return found
    }

    /// `${distro_codename}` kept for Sluice to expand on each host, `${distro_id}` replaced.
    static func expanding(_ text: String, distroID: String?) throws(Untranslatable) -> String {
        try substitute(text) { variable throws(Untranslatable) in
            switch variable {
            case "distro_codename": return "${distro_codename}"
            case "distro_id":
                guard let distroID else { throw Untranslatable(reason: "${distro_id} needs --distro-id") }
                return distroID
            case "distro_release":
                throw Untranslatable(reason: "${distro_release} is not expanded by Sluice (only ${distro_codename} is)")
            default:
                throw Untranslatable(reason: "unknown variable ${\(variable)} (unattended-upgrades itself stops on it)")
            }
        }
    }

    /// Python's `string.Template`: `$$`, `$name`, `${name}`.
    static func substitute(_ text: String, _ value: (String) throws(Untranslatable) -> String) throws(Untranslatable) -> String {
        let s = Array(text)
        var out = ""
        var i = 0
        func isStart(_ c: Character) -> Bool { c == "_" || (c.isASCII && c.isLetter) }
        func isPart(_ c: Character) -> Bool { isStart(c) || (c.isASCII && c.isNumber) }
        while i < s.count {
            guard s[i] == "$" else {
                out.append(s[i])
                i += 1
                continue
            }
            let braced = i + 1 < s.count && s[i + 1] == "{"
            var j = i + (braced ? 2 : 1)
            if !braced, j < s.count, s[j] == "$" {
                out.append("$")
                i = j + 1
                continue
            }
            guard j < s.count, isStart(s[j]) else { throw Untranslatable(reason: "a $ that starts no variable (write $$ for a dollar)") }
            let start = j
            while j < s.count, isPart(s[j]) { j += 1 }
            let name = String(s[start..<j])
            if braced {
                guard j < s.count, s[j] == "}" else { throw Untranslatable(reason: "${ without its }") }
                j += 1
            }
            out += try value(name)
            i = j
        }
        return out
    }

    /// A Python `fnmatch` pattern as a Sluice glob: classes spelt out (Sluice's have no ranges).
    static func glob(_ pattern: String) throws(Untranslatable) -> String {
        let s = Array(pattern)
        var out = ""
        var i = 0
        while i < s.count {
            guard s[i] == "[" else {
                out.append(s[i])
                i += 1
                continue
            }
            var j = i + 1
            if j < s.count, s[j] == "!" { throw Untranslatable(reason: "a negated class [!...] has no Sluice glob") }
            if j < s.count, s[j] == "]" { j += 1 }
            guard let close = s[j...].firstIndex(of: "]") else {
                out.append("[")
                i += 1
                continue
            }
            var members: [Character] = []
            var k = i + 1
            while k < close {
                if k + 2 < close, s[k + 1] == "-", let a = s[k].asciiValue, let b = s[k + 2].asciiValue, a <= b {
                    members += (a...b).map { Character(Unicode.Scalar($0)) }
                    k += 3
                } else {
                    members.append(s[k])
                    k += 1
                }
            }
            guard !members.contains("]") else { throw Untranslatable(reason: "a class holding ] has no Sluice glob") }
            out += "[" + String(members) + "]"
            i = close + 1
        }
        return out
    }
}
