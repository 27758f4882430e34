/// A Debian binary or source package name (Debian Policy §5.6.1): lowercase `a-z`, digits,
/// `+`, `-` and `.`, at least 2 characters, starting with a letter or digit.
///
/// An architecture qualifier (`libc6:amd64`) is not part of the name; see ``Architecture``.
/// The syntax check doubles as an injection guard: a valid name can never look like a
/// command-line option (`-oAPT::…`, `--purge`), an apt pin (`=`), a path, or contain
/// whitespace or shell metacharacters.
public struct PackageName: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The longest name accepted, in characters.
    public static let maxLength = 128

    /// The validated name.
    public let rawValue: String

    /// Parses and validates a package name.
    /// - Throws: ``PackageSyntaxError`` naming the input and the first problem found.
    public init(parsing text: String) throws(PackageSyntaxError) {
        try checkToken(
            text, subject: .packageName, maxLength: Self.maxLength, punctuation: "+-.",
            allowed: "only a-z, 0-9, \"+\", \"-\" and \".\" are allowed"
        ) { scalar in
            if scalar == ":" { return "contains \":\"; an architecture qualifier is not part of the package name" }
            if DebianCharacters.isUpper(scalar) {
                return "contains uppercase letter \(PackageSyntaxError.quote(scalar)); package names are lowercase"
            }
            return nil
        }
        guard text.unicodeScalars.count >= 2 else {
            throw PackageSyntaxError(.packageName, input: text, reason: "must be at least 2 characters long")
        }
        rawValue = text
    }

    /// The name itself.
    public var description: String { rawValue }

    /// Orders names by their bytes (names are ASCII, so this is also code-point order).
    public static func < (lhs: PackageName, rhs: PackageName) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Decodes a name from a single string; invalid text is a `dataCorrupted` error
    /// whose debug description is the ``PackageSyntaxError`` message.
    public init(from decoder: any Decoder) throws {
        self = try decodeToken(from: decoder) { text throws(PackageSyntaxError) in try PackageName(parsing: text) }
    }

    /// Encodes the name as a single string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A Debian architecture name as dpkg and apt print it: `[a-z0-9][a-z0-9-]*`, for example
/// `amd64`, `arm64`, `armhf`, `i386`, `all`, `any` or `linux-any`.
public struct Architecture: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The longest architecture name accepted, in characters.
    public static let maxLength = 64

    /// The validated architecture name.
    public let rawValue: String

    /// Parses and validates an architecture name.
    /// - Throws: ``PackageSyntaxError`` naming the input and the first problem found.
    public init(parsing text: String) throws(PackageSyntaxError) {
        try checkToken(
            text, subject: .architecture, maxLength: Self.maxLength, punctuation: "-",
            allowed: "only a-z, 0-9 and \"-\" are allowed"
        ) { _ in nil }
        rawValue = text
    }

    /// The architecture name itself.
    public var description: String { rawValue }

    /// Orders architectures by their names.
    public static func < (lhs: Architecture, rhs: Architecture) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Decodes an architecture from a single string; invalid text is a `dataCorrupted`
    /// error whose debug description is the ``PackageSyntaxError`` message.
    public init(from decoder: any Decoder) throws {
        self = try decodeToken(from: decoder) { text throws(PackageSyntaxError) in try Architecture(parsing: text) }
    }

    /// Encodes the architecture as a single string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// One exact package version as apt takes it on the command line: `name=version`,
/// for example `bind9=1:9.18.28-1~deb12u2`.
///
/// Encoded (Codable) as that single `name=version` string.
public struct PackagePin: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The package to pin.
    public let name: PackageName
    /// The exact version to install.
    public let version: DebianVersion

    /// Pins `name` to exactly `version`.
    public init(name: PackageName, version: DebianVersion) {
        self.name = name
        self.version = version
    }

    /// Parses `name=version`, splitting at the first `=`.
    /// - Throws: ``PackageSyntaxError``: a `.pin` error when there is no `=`, otherwise the
    ///   name's or the version's own error (naming just that part).
    public init(parsing text: String) throws(PackageSyntaxError) {
        guard let equals = text.firstIndex(of: "=") else {
            throw PackageSyntaxError(.pin, input: text, reason: "expected name=version")
        }
        name = try PackageName(parsing: String(text[..<equals]))
        version = try DebianVersion(parsing: String(text[text.index(after: equals)...]))
    }

    /// `name=version`, with the version exactly as it was parsed.
    public var description: String { "\(name)=\(version)" }

    /// Decodes a pin from a single `name=version` string; invalid text is a
    /// `dataCorrupted` error whose debug description is the ``PackageSyntaxError`` message.
    public init(from decoder: any Decoder) throws {
        self = try decodeToken(from: decoder) { text throws(PackageSyntaxError) in try PackagePin(parsing: text) }
    }

    /// Encodes the pin as a single `name=version` string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Validates a lowercase token: not empty, at most `maxLength` scalars, first scalar
/// `[a-z0-9]`, every scalar `[a-z0-9]` or in `punctuation`. `special` may give a more
/// specific reason for a refused scalar than the generic "contains invalid character".
private func checkToken(
    _ text: String, subject: PackageSyntaxError.Subject, maxLength: Int, punctuation: String, allowed: String,
    special: (Unicode.Scalar) -> String?
) throws(PackageSyntaxError) {
    func failure(_ reason: String) -> PackageSyntaxError { PackageSyntaxError(subject, input: text, reason: reason) }
    func isTokenScalar(_ scalar: Unicode.Scalar) -> Bool {
        DebianCharacters.isLower(scalar) || DebianCharacters.isDigit(scalar) || punctuation.unicodeScalars.contains(scalar)
    }
    guard let first = text.unicodeScalars.first else { throw failure("must not be empty") }
    let length = text.unicodeScalars.count
    guard length <= maxLength else { throw failure("is \(length) characters long; the limit is \(maxLength)") }
    // Leading punctuation ("-oAPT::Get", "--purge", ".profile") gets its own message:
    // that is the shape of an option or hidden file, not of a typo inside a name.
    if punctuation.unicodeScalars.contains(first) {
        throw failure("must start with a lowercase letter or digit")
    }
    for scalar in text.unicodeScalars where !isTokenScalar(scalar) {
        throw failure(special(scalar) ?? "contains invalid character \(PackageSyntaxError.quote(scalar)); \(allowed)")
    }
}

/// Decodes a single string and parses it, turning a ``PackageSyntaxError`` into
/// `DecodingError.dataCorrupted` carrying the error's message.
private func decodeToken<Value>(
    from decoder: any Decoder, _ parse: (String) throws(PackageSyntaxError) -> Value
) throws -> Value {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    do {
        return try parse(text)
    } catch {
        throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
    }
}
