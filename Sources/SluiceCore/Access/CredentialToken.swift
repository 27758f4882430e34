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
        guard text.utf8.count <= 128, text.hasPrefix("sluice-") else { return nil }
        let parts = text.dropFirst("sluice-".count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let kind = Kind(rawValue: String(parts[0])) else { return nil }
        let keyID = String(parts[1]), secret = String(parts[2])
        // Byte ranges, not characters or a set: every request of every agent is checked here.
        guard keyID.utf8.count == 16, keyID.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
            secret.utf8.count == 43,
            secret.utf8.allSatisfy(Self.isBase64URL)
        else { return nil }
        self.init(kind: kind, keyID: keyID, secret: secret)
    }

    public var text: String { "sluice-\(kind.rawValue).\(keyID).\(secret)" }

    /// A fresh token from the system's cryptographically secure generator.
    public static func generate(kind: Kind) -> CredentialToken {
        var rng = SystemRandomNumberGenerator()
        let keyBytes = (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let secretBytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let keyID = keyBytes.map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
        }.joined()
        return CredentialToken(kind: kind, keyID: keyID, secret: base64URL(secretBytes))
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
