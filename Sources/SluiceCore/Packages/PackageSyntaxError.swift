/// Why a package name, architecture, version or `name=version` pin was refused.
///
/// The ``description`` is one human-readable line that names the offending input and
/// what is wrong with it, for example
/// `invalid package name "-oAPT::Get": must start with a lowercase letter or digit`.
/// The input is quoted with Swift-style escapes (`\n`, `\0`, `\u{1B}`, …), so hostile
/// input can never break the message across lines or smuggle terminal controls into logs.
public struct PackageSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of value that failed to parse.
    public enum Subject: String, Sendable, Equatable {
        case packageName = "package name"
        case architecture = "architecture"
        case version = "version"
        case pin = "package pin"
    }

    /// The kind of value that failed to parse.
    public let subject: Subject
    /// The exact text that was refused (unescaped, untruncated).
    public let input: String
    /// What is wrong with ``input``, without the input itself.
    public let reason: String

    /// Creates an error for `input`, which is not a valid `subject` because of `reason`.
    public init(_ subject: Subject, input: String, reason: String) {
        self.subject = subject
        self.input = input
        self.reason = reason
    }

    /// One line: `invalid <subject> "<escaped input>": <reason>`.
    public var description: String {
        "invalid \(subject.rawValue) \(Self.quote(input)): \(reason)"
    }

    /// The same text as ``description``.
    public var message: String { description }

    /// The most input characters a message shows; longer input is cut and ends in `…`.
    static let quoteLimit = 64

    /// Quotes untrusted text for a one-line message.
    ///
    /// Printable ASCII is kept as is (except `"` and `\`, which are escaped); `\t`, `\n`,
    /// `\r` and `\0` use their short escapes; every other scalar, including all non-ASCII
    /// ones (so bidirectional overrides and line separators are visible), becomes `\u{XX}`.
    static func quote(_ text: some StringProtocol, limit: Int = quoteLimit) -> String {
        var out = "\""
        for (count, scalar) in text.unicodeScalars.enumerated() {
            if count == limit {
                out += "…"
                break
            }
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            case " "..."~": out.unicodeScalars.append(scalar)
            default: out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            }
        }
        return out + "\""
    }

    /// Quotes a single scalar, for "contains invalid character ..." reasons.
    static func quote(_ scalar: Unicode.Scalar) -> String {
        quote(String(scalar))
    }
}

/// ASCII character classes used by the package syntax parsers. Debian's syntax is
/// pure ASCII, so none of these accept anything beyond U+007F.
enum DebianCharacters {
    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
    static func isLower(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) }
    static func isUpper(_ scalar: Unicode.Scalar) -> Bool { ("A"..."Z").contains(scalar) }
    static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        isDigit(scalar) || isLower(scalar) || isUpper(scalar)
    }
}
