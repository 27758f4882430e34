/// A Debian package version, `[epoch:]upstream_version[-debian_revision]`, as defined by
/// Debian Policy §5.6.12 and ordered exactly like dpkg orders it.
///
/// Parsing follows dpkg's `parseversion()` with a few deliberate extra refusals (no
/// surrounding whitespace, no empty revision after a trailing `-`, upstream must start
/// with a digit, at most ``maxLength`` characters), so every accepted version is one
/// `dpkg --compare-versions` and `apt-get install name=version` accept too.
///
/// ## Equality versus ordering
/// `==` and `hash(into:)` compare the parsed components (``epoch``, ``upstream``,
/// ``revision``) as exact strings. dpkg's ordering is coarser: `1.0` and `1.00`, or
/// `1.0` and `1.0-0`, are the *same* version to dpkg, so `compare(_:)` returns 0 for them
/// although they are not `==`. A `compare(_:)` result of 0 therefore does not imply `==`;
/// use it (or `<=`/`>=`) when asking "is this the same version to apt?". Conversely
/// `0:1.0 == 1.0` and `01:1.0 == 1:1.0` hold, although their ``description``s differ.
public struct DebianVersion: Sendable, Hashable, Comparable, Codable, CustomStringConvertible,
    LosslessStringConvertible
{
    /// The longest version text accepted, in characters.
    public static let maxLength = 256
    /// The largest epoch accepted; dpkg stores epochs in a C `int`.
    public static let maxEpoch = Int(Int32.max)

    /// The epoch, 0 when the version has none.
    public let epoch: Int
    /// The upstream version: starts with a digit; may contain `-` only when there is a
    /// revision and `:` only when there is an epoch.
    public let upstream: String
    /// The Debian revision after the last `-`, or the empty string when there is none.
    public let revision: String
    /// The version exactly as it was parsed.
    private let text: String

    /// The original text, byte for byte (`01:1.0` stays `01:1.0`).
    public var description: String { text }

    /// Parses and validates a version.
    ///
    /// - Parameter text: `[epoch:]upstream[-revision]`: the epoch is an unsigned decimal
    ///   integer before the first `:`; the revision follows the last `-` and may contain
    ///   only `A-Z a-z 0-9 + . ~`; the upstream version starts with a digit and may contain
    ///   only `A-Z a-z 0-9 . + ~ - :`.
    /// - Throws: ``PackageSyntaxError`` naming the input and the first problem found.
    public init(parsing text: String) throws(PackageSyntaxError) {
        func failure(_ reason: String) -> PackageSyntaxError {
            PackageSyntaxError(.version, input: text, reason: reason)
        }
        guard !text.isEmpty else { throw failure("must not be empty") }
        let length = text.unicodeScalars.count
        guard length <= Self.maxLength else {
            throw failure("is \(length) characters long; the limit is \(Self.maxLength)")
        }
        guard !text.hasPrefix("-") else { throw failure("must not start with \"-\"") }
        for scalar in text.unicodeScalars where !Self.isVersionCharacter(scalar) {
            throw failure(
                "contains invalid character \(PackageSyntaxError.quote(scalar)); "
                    + "only A-Z, a-z, 0-9, \".\", \"+\", \"~\", \"-\" and \":\" are allowed"
            )
        }

        var rest = Substring(text)
        var epoch = 0
        if let colon = rest.firstIndex(of: ":") {
            let digits = rest[..<colon]
            guard !digits.isEmpty else { throw failure("epoch before \":\" is empty") }
            guard digits.unicodeScalars.allSatisfy(DebianCharacters.isDigit) else {
                let hint = digits.unicodeScalars.first.map(DebianCharacters.isDigit) == true
                    ? " (a \":\" in the upstream version needs an explicit epoch)" : ""
                throw failure("epoch \(PackageSyntaxError.quote(digits)) is not an unsigned integer\(hint)")
            }
            guard let value = Int(digits), value <= Self.maxEpoch else {
                throw failure("epoch \(PackageSyntaxError.quote(digits)) is larger than \(Self.maxEpoch)")
            }
            epoch = value
            rest = rest[rest.index(after: colon)...]
        }

        var upstream = rest
        var revision = Substring()
        if let hyphen = rest.lastIndex(of: "-") {
            upstream = rest[..<hyphen]
            revision = rest[rest.index(after: hyphen)...]
            guard !revision.isEmpty else { throw failure("revision after the last \"-\" is empty") }
            for scalar in revision.unicodeScalars where !Self.isRevisionCharacter(scalar) {
                throw failure(
                    "revision \(PackageSyntaxError.quote(revision)) contains invalid character "
                        + "\(PackageSyntaxError.quote(scalar)); only A-Z, a-z, 0-9, \"+\", \".\" and \"~\" are allowed"
                )
            }
        }
        guard let first = upstream.unicodeScalars.first else { throw failure("upstream version is empty") }
        guard DebianCharacters.isDigit(first) else {
            throw failure("upstream version \(PackageSyntaxError.quote(upstream)) must start with a digit")
        }

        self.epoch = epoch
        self.upstream = String(upstream)
        self.revision = String(revision)
        self.text = text
    }

    /// Parses `description`, returning `nil` when it is not a valid version.
    public init?(_ description: String) {
        guard let version = try? DebianVersion(parsing: description) else { return nil }
        self = version
    }

    private static func isVersionCharacter(_ scalar: Unicode.Scalar) -> Bool {
        DebianCharacters.isAlphanumeric(scalar) || ".+~-:".unicodeScalars.contains(scalar)
    }

    private static func isRevisionCharacter(_ scalar: Unicode.Scalar) -> Bool {
        DebianCharacters.isAlphanumeric(scalar) || "+.~".unicodeScalars.contains(scalar)
    }

    // MARK: Equality and hashing (parsed components, not the original text)

    public static func == (lhs: DebianVersion, rhs: DebianVersion) -> Bool {
        lhs.epoch == rhs.epoch && lhs.upstream == rhs.upstream && lhs.revision == rhs.revision
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(epoch)
        hasher.combine(upstream)
        hasher.combine(revision)
    }

    // MARK: Ordering (dpkg's dpkg_version_compare)

    /// Compares two versions the way dpkg does: epochs numerically, then the upstream
    /// versions, then the revisions, each with dpkg's `verrevcmp`.
    ///
    /// - Returns: -1 if `self` is older than `other`, 0 if dpkg considers them the same
    ///   version (which does not imply `==`, see the type's documentation), 1 if newer.
    public func compare(_ other: DebianVersion) -> Int {
        if epoch != other.epoch { return epoch < other.epoch ? -1 : 1 }
        let byUpstream = Self.verrevcmp(Array(upstream.utf8), Array(other.upstream.utf8))
        if byUpstream != 0 { return byUpstream }
        return Self.verrevcmp(Array(revision.utf8), Array(other.revision.utf8))
    }

    /// `true` when dpkg considers `lhs` older than `rhs`.
    public static func < (lhs: DebianVersion, rhs: DebianVersion) -> Bool {
        lhs.compare(rhs) < 0
    }

    /// dpkg's `order()`: the sort weight of one non-digit byte (nil is the end of the
    /// string). `~` sorts before everything, even the end; letters sort before all
    /// other non-digits.
    private static func order(_ byte: UInt8?) -> Int {
        guard let byte else { return 0 }
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return 0
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"): return Int(byte)
        case UInt8(ascii: "~"): return -1
        default: return Int(byte) + 256
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// dpkg's `verrevcmp()`: alternately compares a run of non-digits (by ``order(_:)``)
    /// and a run of digits (numerically, leading zeros ignored, any length), until one
    /// side differs or both strings end. Returns -1, 0 or 1.
    private static func verrevcmp(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var i = 0
        var j = 0
        func byte(_ s: [UInt8], _ k: Int) -> UInt8? { k < s.count ? s[k] : nil }
        func digit(_ s: [UInt8], _ k: Int) -> Bool { k < s.count && isDigit(s[k]) }
        func nonDigit(_ s: [UInt8], _ k: Int) -> Bool { k < s.count && !isDigit(s[k]) }
        while i < a.count || j < b.count {
            while nonDigit(a, i) || nonDigit(b, j) {
                let left = order(byte(a, i))
                let right = order(byte(b, j))
                if left != right { return left < right ? -1 : 1 }
                i += 1
                j += 1
            }
            while byte(a, i) == UInt8(ascii: "0") { i += 1 }
            while byte(b, j) == UInt8(ascii: "0") { j += 1 }
            var firstDifference = 0
            while digit(a, i) && digit(b, j) {
                if firstDifference == 0 { firstDifference = Int(a[i]) - Int(b[j]) }
                i += 1
                j += 1
            }
            if digit(a, i) { return 1 }
            if digit(b, j) { return -1 }
            if firstDifference != 0 { return firstDifference < 0 ? -1 : 1 }
        }
        return 0
    }

    // MARK: Codable (a single string)

    /// Decodes a version from a single string; invalid text is a `dataCorrupted` error
    /// whose debug description is the ``PackageSyntaxError`` message.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try DebianVersion(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes the version as its original text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
