/// The identity of one server with an agent: a DNS-style host name, lowercase.
///
/// The syntax is kept narrow on purpose: host ids appear in URL paths, audit rows and
/// log lines, so they never need quoting or escaping anywhere.
public struct HostID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// - Parameter text: 1 to 253 characters of `a-z`, `0-9`, `.`, `-` and `_`, starting
    ///   with a letter or digit.
    public init(parsing text: String) throws(InvalidInput) {
        guard !text.isEmpty, text.utf8.count <= 253 else {
            throw InvalidInput("invalid host id \(quoted(text)): must be 1 to 253 characters")
        }
        guard let first = text.unicodeScalars.first, first.isLowerAlphanumeric else {
            throw InvalidInput("invalid host id \(quoted(text)): must start with a lowercase letter or digit")
        }
        for scalar in text.unicodeScalars where !(scalar.isLowerAlphanumeric || "._-".unicodeScalars.contains(scalar)) {
            throw InvalidInput(
                "invalid host id \(quoted(text)): character \(quoted(String(scalar))) is not allowed (use a-z, 0-9, '.', '-', '_')"
            )
        }
        self.rawValue = text
    }

    public var description: String { rawValue }
    public static func < (a: HostID, b: HostID) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { self = try HostID(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension Unicode.Scalar {
    var isLowerAlphanumeric: Bool { ("a"..."z").contains(self) || ("0"..."9").contains(self) }
}
