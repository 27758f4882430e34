/// The `details` JSON object of an audit event, read as text fields for people.
public struct AuditDetails: Sendable, Equatable {
    /// Each top-level field as text: strings unescaped, numbers, booleans and `null` as
    /// written, arrays joined with `, `, objects as `{key: value, ...}`.
    public let fields: [String: String]

    /// Reads `json`; anything that is not a JSON object gives no fields.
    public init(_ json: String) {
        guard json != "{}" else {
            fields = [:]
            return
        }
        var parser = Parser(bytes: Array(json.utf8))
        fields = parser.topLevelObject() ?? [:]
    }

    public subscript(_ name: String) -> String? { fields[name] }

    /// A small JSON reader for the flat objects the store writes: a postmortem reads
    /// thousands of them, and `JSONDecoder` with an any-value type is slow at it.
    struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func topLevelObject() -> [String: String]? {
            skipSpace()
            guard let fields = object() else { return nil }
            skipSpace()
            return index == bytes.count ? fields : nil
        }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func object() -> [String: String]? {
            guard take(UInt8(ascii: "{")) else { return nil }
            var fields: [String: String] = [:]
            if take(UInt8(ascii: "}")) { return fields }
            repeat {
                skipSpace()
                guard let key = string(), take(UInt8(ascii: ":")), let value = value() else { return nil }
                fields[key] = value
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}")) ? fields : nil
        }

        /// Any value, as text: strings unescaped, arrays joined with `, `, objects as `{k: v}`.
        mutating func value() -> String? {
            skipSpace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "{"):
                guard let fields = object() else { return nil }
                return "{" + fields.keys.sorted().map { "\($0): \(fields[$0]!)" }.joined(separator: ", ") + "}"
            case UInt8(ascii: "["):
                index += 1
                var items: [String] = []
                if take(UInt8(ascii: "]")) { return "" }
                repeat {
                    guard let item = value() else { return nil }
                    items.append(item)
                } while take(UInt8(ascii: ","))
                return take(UInt8(ascii: "]")) ? items.joined(separator: ", ") : nil
            default:
                let start = index
                while index < bytes.count, !",}] \t\r\n".utf8.contains(bytes[index]) { index += 1 }
                let token = String(decoding: bytes[start..<index], as: UTF8.self)
                return token.isEmpty ? nil : token
            }
        }

        mutating func string() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        {
                            index += 2
                            guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        out.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
                    default: out.append(escaped)
                    }
                default: out.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else { return nil }
            index += 4
            return value
        }
    }
}

/// One line of untrusted text for a listing: control characters and line breaks become
/// spaces, runs of spaces collapse, and very long text is cut with `…`.
public func oneLine(_ text: String, limit: Int = 300) -> String {
    var out = ""
    var lastWasSpace = false
    var count = 0
    for scalar in text.unicodeScalars {
        let isSpace = scalar.value < 0x20 || scalar.value == 0x7F || scalar == " "
        if isSpace {
            if !lastWasSpace && !out.isEmpty { out.append(" ") }
            lastWasSpace = true
            continue
        }
        if count == limit {
            out += "…"
            break
        }
        out.unicodeScalars.append(scalar)
        lastWasSpace = false
        count += 1
    }
    return out.hasSuffix(" ") ? String(out.dropLast()) : out
}
