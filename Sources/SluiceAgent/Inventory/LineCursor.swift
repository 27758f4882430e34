import SluiceCore

/// Reads one line of apt output from left to right. Every method either consumes what it
/// recognises or throws a ``Failure`` saying what it expected; nothing here can trap on
/// hostile input.
struct LineCursor {
    /// What the line did not have; becomes part of an ``InventoryParseError``.
    struct Failure: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private(set) var text: Substring

    init(text: Substring) { self.text = text }

    /// Consumes `prefix` if the remaining text starts with it.
    mutating func skip(_ prefix: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        text = text.dropFirst(prefix.count)
        return true
    }

    /// Consumes `name` or `name:arch` and the space after it.
    mutating func packageName() throws(Failure) -> (PackageName, Architecture?) {
        let end = text.firstIndex(of: " ") ?? text.endIndex
        let token = text[..<end]
        text = text[end...]
        _ = skip(" ")
        guard !token.isEmpty else { throw Failure("no package name") }
        if let colon = token.firstIndex(of: ":") {
            let name = try Self.parse(token[..<colon]) { (text) throws(PackageSyntaxError) in try PackageName(parsing: text) }
            let arch = try Self.parse(token[token.index(after: colon)...]) {
                (text) throws(PackageSyntaxError) in try Architecture(parsing: text)
            }
            return (name, arch)
        }
        return (try Self.parse(token) { (text) throws(PackageSyntaxError) in try PackageName(parsing: text) }, nil)
    }

    /// Consumes `[version]` and the space after it, if the text starts with `[`.
    mutating func installedVersion() throws(Failure) -> DebianVersion? {
        guard text.hasPrefix("[") else { return nil }
        guard let close = text.firstIndex(of: "]") else { throw Failure("no \"]\" closes the installed version") }
        let version = try Self.parse(text[text.index(after: text.startIndex)..<close]) {
            (text) throws(PackageSyntaxError) in try DebianVersion(parsing: text)
        }
        text = text[text.index(after: close)...]
        _ = skip(" ")
        return version
    }

    /// Consumes the rest of the line and returns the text before the first `)` that is
    /// followed only by `[…]` groups (apt's notes about broken packages), or `nil`.
    mutating func bodyBeforeTrailingGroups() -> Substring? {
        var index = text.startIndex
        while let close = text[index...].firstIndex(of: ")") {
            let after = text.index(after: close)
            if Self.onlyTrailingGroups(text[after...]) {
                let body = text[..<close]
                text = text[text.endIndex...]
                return body
            }
            index = after
        }
        return nil
    }

    /// Whether the remaining text is empty or only `[…]` groups separated by spaces.
    func isOnlyTrailingGroups() -> Bool { Self.onlyTrailingGroups(text) }

    private static func onlyTrailingGroups(_ text: Substring) -> Bool {
        var rest = text
        while true {
            rest = rest.drop { $0 == " " }
            if rest.isEmpty { return true }
            guard rest.hasPrefix("["), let close = rest.firstIndex(of: "]") else { return false }
            rest = rest[rest.index(after: close)...]
        }
    }

    /// Runs a SluiceCore syntax check, turning its error into a ``Failure``.
    static func parse<Value>(
        _ text: Substring, _ check: (String) throws(PackageSyntaxError) -> Value
    ) throws(Failure) -> Value {
        do {
            return try check(String(text))
        } catch {
            throw Failure(error.description)
        }
    }
}
