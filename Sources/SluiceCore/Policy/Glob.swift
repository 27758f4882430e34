/// Shell-style globs for package names and origin fields: `*`, `?` and `[abc]`.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        match(Array(pattern.unicodeScalars), 0, Array(text.unicodeScalars), 0)
    }

    private static func match(_ p: [Unicode.Scalar], _ pi: Int, _ t: [Unicode.Scalar], _ ti: Int) -> Bool {
        var pi = pi, ti = ti
        var starP = -1, starT = -1
        while ti < t.count {
            if pi < p.count, p[pi] == "*" {
                starP = pi
                starT = ti
                pi += 1
            } else if pi < p.count, let (matched, next) = single(p, pi, t[ti]), matched {
                pi = next
                ti += 1
            } else if starP >= 0 {
                pi = starP + 1
                starT += 1
                ti = starT
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Matches one pattern element at `pi` against `c`: `?`, a `[...]` class, or a literal.
    private static func single(_ p: [Unicode.Scalar], _ pi: Int, _ c: Unicode.Scalar) -> (Bool, Int)? {
        switch p[pi] {
        case "?":
            return (true, pi + 1)
        case "[":
            guard let close = p[(pi + 1)...].firstIndex(of: "]"), close > pi + 1 else { return (p[pi] == c, pi + 1) }
            let set = p[(pi + 1)..<close]
            return (set.contains(c), close + 1)
        default:
            return (p[pi] == c, pi + 1)
        }
    }
}
