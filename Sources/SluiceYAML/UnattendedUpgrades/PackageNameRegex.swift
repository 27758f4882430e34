import SluiceCore

/// unattended-upgrades' `Package-Blacklist` and `Package-Whitelist` entries are Python regular
/// expressions matched at the start of a package name (`re.match`): `"linux-"` takes every
/// package starting with `linux-`, `"libc6$"` only `libc6`. Sluice's `exclude` and `include` are
/// globs on the whole name (`*`, `?`, `[abc]`, no ranges). This turns the regular expressions a
/// blacklist holds in practice into the globs that match the same names: literals and escaped
/// characters, `^`, a final `$`, `.`, `.*`, `.+`, classes (`[0-9+]`), `\d`, optional atoms and
/// groups with alternatives (`(lib)?xen(store)?` is `xen*` and `libxen*`). Anything else
/// (other repetitions, negated classes, look-arounds) is refused with the reason.
enum PackageNameRegex {
    /// At most this many globs from one expression: more alternatives are a mistake.
    static let maxGlobs = 16

    struct Untranslatable: Error {
        let reason: String
    }

    /// The globs that together match what `regex` matches at the start of a package name.
    static func globs(_ regex: String) throws(Untranslatable) -> [String] {
        var parser = Parser(scalars: Array(regex.unicodeScalars))
        var globs: [String] = []
        for alternative in try parser.topLevel() {
            globs.append(contentsOf: alternative.anchored ? alternative.globs : alternative.globs.map { $0 + "*" })
        }
        guard globs.count <= maxGlobs else { throw Untranslatable(reason: "it expands to more than \(maxGlobs) globs") }
        return simplified(globs)
    }

    /// For a blacklist entry with no exact glob: `PREFIX*`, from the literal text the expression
    /// starts with, which excludes at least every name it matches (`python3\.[0-9]+$` is
    /// `python3.*`). `nil` when it starts with no literal or has alternatives.
    static func widerGlob(_ regex: String) -> String? {
        guard !regex.contains("|") else { return nil }
        var scalars = Array(regex.unicodeScalars)[...]
        if scalars.first == "^" { scalars = scalars.dropFirst() }
        var prefix = ""
        while let c = scalars.first {
            if c == "\\", let escaped = scalars.dropFirst().first, !escaped.properties.isAlphabetic, !("0"..."9").contains(escaped),
                !"*?[]".unicodeScalars.contains(escaped)
            {
                prefix.unicodeScalars.append(escaped)
                scalars = scalars.dropFirst(2)
            } else if c.properties.isAlphabetic || ("0"..."9").contains(c) || "-_:@%/=,;'~".unicodeScalars.contains(c) {
                prefix.unicodeScalars.append(c)
                scalars = scalars.dropFirst()
            } else {
                // A repetition that may match nothing takes the character before it with it.
                if "*?{".unicodeScalars.contains(c), !prefix.isEmpty { prefix.removeLast() }
                break
            }
        }
        guard !prefix.isEmpty else { return nil }
        return prefix + "*"
    }

    /// Drops duplicates and globs another one already covers (`xenstore*` beside `xen*`).
    static func simplified(_ globs: [String]) -> [String] {
        var out: [String] = []
        for glob in globs.map(collapsingStars) where !out.contains(glob) { out.append(glob) }
        return out.filter { glob in
            !out.contains { other in
                guard other != glob, other.hasSuffix("*") else { return false }
                let prefix = other.dropLast()
                return !prefix.contains(where: { "*?[".contains($0) }) && glob.hasPrefix(prefix)
            }
        }
    }

    /// `nginx**` (from `nginx.*` matched at the start) is `nginx*`.
    static func collapsingStars(_ glob: String) -> String {
        var out = ""
        for c in glob where !(c == "*" && out.last == "*") { out.append(c) }
        return out
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var i = 0

        init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var peek: Unicode.Scalar? { i < scalars.count ? scalars[i] : nil }

        /// Top-level alternatives, each with whether it ends in `$`.
        mutating func topLevel() throws(Untranslatable) -> [(globs: [String], anchored: Bool)] {
            if peek == "^" { i += 1 }
            var out: [(globs: [String], anchored: Bool)] = []
            while true {
                let globs = try sequence()
                var anchored = false
                if peek == "$" {
                    anchored = true
                    i += 1
                }
                out.append((globs, anchored))
                guard let c = peek else { return out }
                guard c == "|" else { throw Untranslatable(reason: "\(quoted(String(c))) is only understood at the end, after $") }
                i += 1
            }
        }

        /// A run of atoms up to `|`, `)`, `$` or the end: every string it can stand for, as globs.
        mutating func sequence() throws(Untranslatable) -> [String] {
            var results = [""]
            while let c = peek, c != "|", c != ")", c != "$" {
                var options = try atom()
                switch peek {
                case "?":
                    i += 1
                    options = [""] + options
                case "*", "+":
                    guard options == ["?"] else {
                        throw Untranslatable(reason: "a repetition (* or +) of anything but . has no glob")
                    }
                    options = [peek == "*" ? "*" : "?*"]
                    i += 1
                case "{":
                    throw Untranslatable(reason: "a counted repetition {m,n} has no glob")
                default: break
                }
                if peek == "?" { throw Untranslatable(reason: "a lazy repetition has no glob") }
                results = results.flatMap { head in options.map { head + $0 } }
                guard results.count <= maxGlobs else { throw Untranslatable(reason: "it expands to more than \(maxGlobs) globs") }
            }
            return results
        }

        mutating func atom() throws(Untranslatable) -> [String] {
            let c = scalars[i]
            i += 1
            switch c {
            case ".": return ["?"]
            case "[": return [try characterClass()]
            case "(":
                if peek == "?" { throw Untranslatable(reason: "(?...) groups have no glob") }
                var options: [String] = []
                while true {
                    options += try sequence()
                    guard let next = peek else { throw Untranslatable(reason: "a ( is never closed") }
                    i += 1
                    if next == ")" { return options }
                    guard next == "|" else { throw Untranslatable(reason: "$ inside a group has no glob") }
                }
            case "\\":
                guard let escaped = peek else { throw Untranslatable(reason: "it ends with a lone backslash") }
                i += 1
                if escaped == "d" { return ["[0123456789]"] }
                guard !escaped.properties.isAlphabetic, !("0"..."9").contains(escaped) else {
                    throw Untranslatable(reason: "the escape \\\(escaped) has no glob")
                }
                return [try literal(escaped)]
            case "*", "+", "?", "{", ")", "^":
                throw Untranslatable(reason: "\(quoted(String(c))) in this place has no glob")
            default:
                return [try literal(c)]
            }
        }

        func literal(_ c: Unicode.Scalar) throws(Untranslatable) -> String {
            guard !"*?[]".unicodeScalars.contains(c) else {
                throw Untranslatable(reason: "a literal \(quoted(String(c))) cannot be written in a Sluice glob (and is never in a package name)")
            }
            return String(c)
        }

        /// `[...]` after its `[`: the members, ranges spelt out (Sluice's globs have no ranges).
        mutating func characterClass() throws(Untranslatable) -> String {
            if peek == "^" { throw Untranslatable(reason: "a negated class [^...] has no Sluice glob") }
            var members: [Unicode.Scalar] = []
            while let c = peek, c != "]" || members.isEmpty {
                i += 1
                var member = c
                if c == "\\" {
                    guard let escaped = peek else { break }
                    i += 1
                    if escaped == "d" {
                        members += (48...57).compactMap(Unicode.Scalar.init)
                        continue
                    }
                    guard !escaped.properties.isAlphabetic else { throw Untranslatable(reason: "the escape \\\(escaped) has no glob") }
                    member = escaped
                }
                if peek == "-", i + 1 < scalars.count, scalars[i + 1] != "]" {
                    let end = scalars[i + 1]
                    i += 2
                    guard member.value <= end.value, end.value - member.value < 128 else {
                        throw Untranslatable(reason: "the range \(member)-\(end) is not a small ASCII range")
                    }
                    members += (member.value...end.value).compactMap(Unicode.Scalar.init)
                } else {
                    members.append(member)
                }
            }
            guard peek == "]" else { throw Untranslatable(reason: "a [ is never closed") }
            i += 1
            guard !members.contains("]") else { throw Untranslatable(reason: "a class holding ] has no Sluice glob") }
            var unique: [Unicode.Scalar] = []
            for m in members where !unique.contains(m) { unique.append(m) }
            if unique.count == 1 { return try literal(unique[0]) }
            return "[" + String(String.UnicodeScalarView(unique)) + "]"
        }
    }
}
