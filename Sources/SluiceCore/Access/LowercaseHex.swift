/// Lowercase hexadecimal, as Sluice writes key ids, digests and audit hashes.
public enum LowercaseHex {
    /// Two digits per byte, `0-9a-f`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(2 * bytes.underestimatedCount)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A byte of `0-9a-f`.
    public static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    /// Exactly `count` digits of `0-9a-f`.
    public static func isEncoding(_ text: some Collection<UInt8>, count: Int) -> Bool {
        text.count == count && text.allSatisfy(isDigit)
    }
}
