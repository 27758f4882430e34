import SluiceCore

/// The few parts of the DNS wire format (RFC 1035) the built-in DNS health check needs: a
/// query for one name, and the header (and first IPv4 answer) of a response.
public enum DNSMessage {
    /// The fields of a response header that decide a check.
    public struct Response: Sendable, Equatable {
        /// The id, which must match the query's.
        public var id: UInt16
        /// The QR bit: set on responses.
        public var isResponse: Bool
        /// The response code: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED…
        public var rcode: UInt8
        /// The TC bit.
        public var truncated: Bool
        /// ANCOUNT.
        public var answerCount: Int
        /// The address in the first A record of the answer section, if there is one.
        public var firstIPv4: String?
    }

    /// Names of the common response codes, for messages.
    public static func rcodeName(_ code: UInt8) -> String {
        switch code {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        default: "RCODE \(code)"
        }
    }

    /// A recursion-desired query for `name`, type A (1) class IN (1).
    /// - Parameters:
    ///   - id: the query id (random in real use).
    ///   - name: a domain name, with or without the final dot; labels of 1 to 63 letters,
    ///     digits, `-` or `_`, 253 characters at most.
    /// - Throws: ``InvalidInput`` when the name cannot be encoded.
    public static func query(id: UInt16, name: String, type: UInt16 = 1) throws(InvalidInput) -> [UInt8] {
        var text = name
        if text.hasSuffix(".") { text.removeLast() }
        guard !text.isEmpty, text.utf8.count <= 253 else { throw InvalidInput("invalid DNS name \(quoted(name)): must be 1 to 253 characters") }
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in text.split(separator: ".", omittingEmptySubsequences: false) {
            let ok = label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
            guard (1...63).contains(label.utf8.count), ok else {
                throw InvalidInput("invalid DNS name \(quoted(name)): label \(quoted(String(label))) must be 1 to 63 letters, digits, \"-\" or \"_\"")
            }
            bytes.append(UInt8(label.utf8.count))
            bytes += Array(label.utf8)
        }
        bytes += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        return bytes
    }

    /// Reads a response's header and, when present, its first A record.
    /// - Returns: `nil` when the message is shorter than a header.
    public static func parse(_ bytes: [UInt8]) -> Response? {
        guard bytes.count >= 12 else { return nil }
        var response = Response(
            id: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), isResponse: bytes[2] & 0x80 != 0, rcode: bytes[3] & 0x0F,
            truncated: bytes[2] & 0x02 != 0, answerCount: Int(bytes[6]) << 8 | Int(bytes[7]), firstIPv4: nil)
        let questions = Int(bytes[4]) << 8 | Int(bytes[5])
        var offset = 12
        for _ in 0..<questions {
            guard let end = skipName(bytes, offset), end + 4 <= bytes.count else { return response }
            offset = end + 4
        }
        for _ in 0..<response.answerCount {
            guard let end = skipName(bytes, offset), end + 10 <= bytes.count else { return response }
            let type = Int(bytes[end]) << 8 | Int(bytes[end + 1])
            let length = Int(bytes[end + 8]) << 8 | Int(bytes[end + 9])
            let data = end + 10
            guard data + length <= bytes.count else { return response }
            if type == 1 && length == 4 {
                response.firstIPv4 = bytes[data..<data + 4].map(String.init).joined(separator: ".")
                return response
            }
            offset = data + length
        }
        return response
    }

    /// The offset just past the (possibly compressed) name at `offset`.
    private static func skipName(_ bytes: [UInt8], _ start: Int) -> Int? {
        var offset = start
        while offset < bytes.count {
            let length = bytes[offset]
            if length == 0 { return offset + 1 }
            if length & 0xC0 == 0xC0 { return offset + 2 <= bytes.count ? offset + 2 : nil }
            offset += Int(length) + 1
        }
        return nil
    }
}
