import SluiceCore

/// An apt configuration file (`/etc/apt/apt.conf.d/*`, apt.conf(5)) read as apt reads it:
/// `Key "value";` pairs, scopes (`A { B "v"; };` is `A::B`), lists (`A { "x"; "y"; };`),
/// `//`, `/* */` and `#` comments, and the `#clear` directive. Quoted strings keep their
/// backslashes (apt does no escaping there; unattended-upgrades reads `\,` and `\+` itself),
/// and `%XX` is the byte XX, as in apt.
///
/// Malformed text is refused with one line, `file:line: what is wrong`.
public struct AptConfiguration: Sendable, Equatable {
    /// One value set by the file, in file order.
    public struct Entry: Sendable, Equatable {
        /// The full key as written, scopes joined by `::` (`Unattended-Upgrade::Allowed-Origins`).
        public var key: String
        public var value: String
        /// An item of the list `key` (written without a name inside the key's block).
        public var isListItem: Bool
        public var line: Int
    }

    /// The values in file order, with what `#clear` removed already gone.
    public private(set) var entries: [Entry] = []
    /// An `#include` directive, which this reader does not follow.
    public struct Include: Sendable, Equatable {
        public var path: String
        public var line: Int
    }

    public private(set) var includes: [Include] = []

    /// The items of the list `key`, in order (apt's `value_list`). Keys compare as apt compares them: ignoring case.
    public func list(_ key: String) -> [Entry] {
        entries.filter { $0.isListItem && Self.sameKey($0.key, key) }
    }

    /// The last value set for `key` itself, not as a list item (apt's `find`).
    public func scalar(_ key: String) -> Entry? {
        entries.last { !$0.isListItem && Self.sameKey($0.key, key) }
    }

    static func sameKey(_ a: String, _ b: String) -> Bool { a.lowercased() == b.lowercased() }

    /// Reads a whole file's text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(InvalidInput) -> AptConfiguration {
        var reader = Reader(file: file)
        try reader.read(Array(text.unicodeScalars))
        return reader.configuration
    }

    /// The statement reader: words up to a `;`, `{` or `}`, outside quotes and comments.
    private struct Reader {
        let file: String
        var configuration = AptConfiguration()
        var scopes: [(key: String, line: Int)] = []
        var words: [String] = []
        /// Whether the first word of the statement was quoted: a value, never a name.
        var firstWordQuoted = false
        var word = ""
        var inWord = false
        var statementLine = 0
        var line = 1

        init(file: String) { self.file = file }

        func error(_ message: String, at line: Int? = nil) -> InvalidInput {
            InvalidInput("\(file):\(line ?? self.line): \(message)")
        }

        mutating func read(_ s: [Unicode.Scalar]) throws(InvalidInput) {
            var i = 0
            while i < s.count {
                let c = s[i]
                let next: Unicode.Scalar? = i + 1 < s.count ? s[i + 1] : nil
                if c == "\n" {
                    endWord()
                    line += 1
                    i += 1
                } else if c == "\"" {
                    if !inWord { startWord() }
                    if words.isEmpty { firstWordQuoted = true }
                    var j = i + 1
                    while j < s.count, s[j] != "\"" {
                        guard s[j] != "\n" else { throw error("unterminated quoted string: a closing \" is missing on this line") }
                        j += 1
                    }
                    guard j < s.count else { throw error("unterminated quoted string: a closing \" is missing on this line") }
                    word.unicodeScalars.append(contentsOf: s[(i + 1)..<j])
                    i = j + 1
                } else if c == "/" && next == "/" {
                    while i < s.count, s[i] != "\n" { i += 1 }
                } else if c == "/" && next == "*" {
                    let start = line
                    i += 2
                    while i < s.count, !(s[i] == "*" && i + 1 < s.count && s[i + 1] == "/") {
                        if s[i] == "\n" { line += 1 }
                        i += 1
                    }
                    guard i < s.count else { throw error("unterminated comment: the /* opened here has no */", at: start) }
                    i += 2
                } else if c == "#" && !isDirective(s, i) {
                    while i < s.count, s[i] != "\n" { i += 1 }
                } else if c == ";" || c == "{" || c == "}" {
                    endWord()
                    try end(statementBy: c)
                    i += 1
                } else if c == " " || c == "\t" || c == "\r" {
                    endWord()
                    i += 1
                } else {
                    if !inWord { startWord() }
                    word.unicodeScalars.append(c)
                    i += 1
                }
            }
            endWord()
            if let open = scopes.last {
                throw error("the block \(quoted(open.key)) opened here is never closed: a } is missing", at: open.line)
            }
            if !words.isEmpty {
                throw error("\(quoted(words.joined(separator: " "))) is not ended by ; at the end of the file", at: statementLine)
            }
        }

        /// `#clear` and `#include` are statements; any other `#` starts a comment, as in apt.
        func isDirective(_ s: [Unicode.Scalar], _ i: Int) -> Bool {
            for name in ["clear", "include"] {
                let n = Array(name.unicodeScalars)
                if i + n.count < s.count, Array(s[(i + 1)...(i + n.count)]) == n { return true }
            }
            return false
        }

        mutating func startWord() {
            if words.isEmpty {
                statementLine = line
                firstWordQuoted = false
            }
            inWord = true
        }

        mutating func endWord() {
            guard inWord else { return }
            words.append(Self.decodingPercent(word))
            word = ""
            inWord = false
        }

        mutating func end(statementBy terminator: Unicode.Scalar) throws(InvalidInput) {
            let here = words.isEmpty ? line : statementLine
            defer { words = [] }
            let scope = scopes.last?.key ?? ""
            if terminator == "{" {
                guard words.count == 1 else {
                    throw error(words.isEmpty ? "a block starts with no name before {" : "expected one name before {, got \(words.count) words", at: here)
                }
                guard !words[0].hasPrefix("#") else { throw error("a directive cannot open a block", at: here) }
                scopes.append((key: Self.join(scope, words[0]), line: here))
                return
            }
            switch words.count {
            case 0: break
            case 1:
                guard !scope.isEmpty else {
                    throw error("\(quoted(words[0])) has no value: expected Key \"value\"; or a list inside Key { ... };", at: here)
                }
                guard !words[0].hasPrefix("#") else { throw error("directives can only be given at the top level", at: here) }
                configuration.entries.append(Entry(key: scope, value: words[0], isListItem: true, line: here))
            case 2:
                if firstWordQuoted {
                    throw error("a ; is missing after \(quoted(words[0])): a quoted value cannot be followed by another", at: here)
                }
                if words[0].hasPrefix("#") {
                    try directive(words[0], words[1], scope: scope, line: here)
                } else {
                    configuration.entries.append(Entry(key: Self.join(scope, words[0]), value: words[1], isListItem: false, line: here))
                }
            default:
                throw error("extra text after the value \(quoted(words[1])): \(quoted(words[2...].joined(separator: " "))) (a missing ;?)", at: here)
            }
            if terminator == "}" {
                guard scopes.popLast() != nil else { throw error("} closes no block", at: line) }
            }
        }

        mutating func directive(_ name: String, _ argument: String, scope: String, line: Int) throws(InvalidInput) {
            guard scope.isEmpty else { throw error("directives can only be given at the top level", at: line) }
            switch name {
            case "#clear":
                configuration.entries.removeAll {
                    AptConfiguration.sameKey($0.key, argument) || $0.key.lowercased().hasPrefix(argument.lowercased() + "::")
                }
            case "#include":
                configuration.includes.append(Include(path: argument, line: line))
            default:
                throw error("unsupported directive \(quoted(name)) (apt knows #clear and #include)", at: line)
            }
        }

        static func join(_ scope: String, _ key: String) -> String { scope.isEmpty ? key : scope + "::" + key }

        /// apt reads `%XX` as the byte XX.
        static func decodingPercent(_ word: String) -> String {
            guard word.contains("%") else { return word }
            var bytes: [UInt8] = []
            let utf8 = Array(word.utf8)
            var i = 0
            while i < utf8.count {
                if utf8[i] == UInt8(ascii: "%"), i + 2 < utf8.count, let byte = UInt8(String(decoding: utf8[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                    bytes.append(byte)
                    i += 3
                } else {
                    bytes.append(utf8[i])
                    i += 1
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
