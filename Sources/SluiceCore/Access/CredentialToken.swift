/// The bearer tokens Sluice hands out: `sluice-<kind>.<key id>.<secret>`.
///
/// The key id (16 hex digits) is public and selects the stored row; the secret (32 random
/// bytes, base64url) is only ever stored as a hash and compared in constant time.
public struct CredentialToken: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case operatorToken = "op"
        case enrollment = "enroll"
        case host = "host"

        /// The `kind` column value in the credentials table.
        public var storedKind: String {
            switch self {
            case .operatorToken: "operator"
            case .enrollment: "enrollment"
            case .host: "host"
            }
        }
    }

    public let kind: Kind
    public let keyID: String
    public let secret: String

    public init(kind: Kind, keyID: String, secret: String) {
        self.kind = kind
        self.keyID = keyID
        self.secret = secret
    }

    /// Parses a presented token; `nil` for anything that is not exactly this shape.
    public init?(parsing text: String) {
        // On the UTF-8 bytes, not characters (splitting a String on "." walks grapheme
        // clusters) and with byte ranges, not a set: every request of every agent comes here.
        let utf8 = text.utf8
        guard utf8.count <= 128, utf8.starts(with: "sluice-".utf8) else { return nil }
        let kindStart = utf8.index(utf8.startIndex, offsetBy: 7)
        guard let kindEnd = utf8[kindStart...].firstIndex(of: 0x2E) else { return nil }
        let keyStart = utf8.index(after: kindEnd)
        guard let keyEnd = utf8[keyStart...].firstIndex(of: 0x2E) else { return nil }
        let key = utf8[keyStart..<keyEnd], secret = utf8[utf8.index(after: keyEnd)...]
        // A third "." is not in the secret's alphabet.
        guard LowercaseHex.isEncoding(key, count: 16),
            secret.count == 43, secret.allSatisfy(Self.isBase64URL),
            let kind = Kind.allCases.first(where: { utf8[kindStart..<kindEnd].elementsEqual($0.rawValue.utf8) })
        else { return nil }
        self.init(kind: kind, keyID: String(decoding: key, as: UTF8.self), secret: String(decoding: secret, as: UTF8.self))
    }

    public var text: String { "sluice-\(kind.rawValue).\(keyID).\(secret)" }

    /// A fresh token from the system's cryptographically secure generator.
    public static func generate(kind: Kind) -> CredentialToken {
        var rng = SystemRandomNumberGenerator()
        let keyBytes = (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let secretBytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return CredentialToken(kind: kind, keyID: LowercaseHex.encode(keyBytes), secret: base64URL(secretBytes))
    }

    /// A byte of the URL-safe base64 alphabet: A-Z a-z 0-9 - _.
    static func isBase64URL(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x5F
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
