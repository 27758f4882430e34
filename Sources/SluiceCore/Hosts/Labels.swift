/// A host's labels (`region`, `role`, `environment`, anything else): the facts that
/// policies select hosts by and that form redundancy groups.
public struct Labels: Sendable, Hashable, Codable, Sequence, CustomStringConvertible {
    public static let maxCount = 64
    public private(set) var values: [String: String]

    public init() { values = [:] }

    /// - Parameter values: keys are 1 to 63 characters of `a-z0-9_-` (starting with a
    ///   letter); values 1 to 253 printable characters without spaces, `=` or `,`.
    public init(validating values: [String: String]) throws(InvalidInput) {
        guard values.count <= Labels.maxCount else {
            throw InvalidInput("too many labels: \(values.count) (at most \(Labels.maxCount))")
        }
        for (key, value) in values {
            try Labels.check(key: key, value: value)
        }
        self.values = values
    }

    public subscript(key: String) -> String? { values[key] }

    public func makeIterator() -> some IteratorProtocol<(key: String, value: String)> {
        values.sorted { $0.key < $1.key }.makeIterator()
    }

    /// `key=value,key=value`, sorted by key.
    public var description: String { map { "\($0.key)=\($0.value)" }.joined(separator: ",") }

    static func check(key: String, value: String) throws(InvalidInput) {
        guard (1...63).contains(key.utf8.count), let first = key.unicodeScalars.first, ("a"..."z").contains(first),
            key.unicodeScalars.allSatisfy({ $0.isLowerAlphanumeric || $0 == "_" || $0 == "-" })
        else {
            throw InvalidInput("invalid label key \(quoted(key)): use 1 to 63 characters of a-z, 0-9, '_', '-', starting with a letter")
        }
        guard (1...253).contains(value.utf8.count),
            value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && $0 != "=" && $0 != "," })
        else {
            throw InvalidInput(
                "invalid value \(quoted(value)) for label \(quoted(key)): use 1 to 253 printable characters without spaces, '=' or ','"
            )
        }
    }

    /// Parses `key=value` as given on a command line.
    public static func parseAssignment(_ text: String) throws(InvalidInput) -> (String, String) {
        guard let eq = text.firstIndex(of: "=") else {
            throw InvalidInput("invalid label \(quoted(text)): expected key=value")
        }
        let key = String(text[..<eq]), value = String(text[text.index(after: eq)...])
        try check(key: key, value: value)
        return (key, value)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode([String: String].self)
        do { self = try Labels(validating: raw) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }
}
