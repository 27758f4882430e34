import SluiceCore

/// Limits on the shape of a JSON request body, checked on the raw bytes before it is
/// decoded: a hostile body is refused for what it is (too deep, a string or list too long)
/// instead of costing the decoder time and memory first.
public struct JSONLimits: Sendable, Equatable {
    /// Objects and arrays nested deeper than this are refused.
    public var maxDepth = 16
    /// The longest string, key or value, in UTF-8 bytes (as written, escapes included).
    public var maxStringBytes = 64 * 1024
    /// The most elements of one array or members of one object.
    public var maxListLength = 100_000

    public init() {}

    /// Throws a one-line description of the first limit the body breaks. Does not check the
    /// rest of JSON's grammar: the decoder does that next.
    ///
    /// The body must be UTF-8: a NUL, 0xFE or 0xFF byte (a UTF-16 or UTF-32 body, or a byte
    /// order mark, which the decoder would otherwise accept and convert) is refused, so the
    /// bytes checked here are the bytes decoded.
    public func check(_ bytes: some Collection<UInt8>) throws(InvalidInput) {
        // Over contiguous bytes the scan is specialised here, in its own module: through a
        // generic collection from another module every byte went through a witness table
        // (a quarter of the controller's CPU on inventory reports).
        let outcome = bytes.withContiguousStorageIfAvailable { buffer in Result { () throws(InvalidInput) in try scan(buffer) } }
        try (outcome ?? Array(bytes).withUnsafeBufferPointer { buffer in Result { () throws(InvalidInput) in try scan(buffer) } }).get()
    }

    private func scan(_ bytes: UnsafeBufferPointer<UInt8>) throws(InvalidInput) {
        // One counter of elements per open container; an element is counted at its first byte.
        var counts: [Int] = []
        var inString = false
        var escaped = false
        var stringStart = 0
        var expectingValue = true
        var offset = 0
        // Where the current number or literal began, if one is being read.
        var tokenStart: Int?
        for byte in bytes {
            defer { offset += 1 }
            if byte == 0 || byte == 0xFE || byte == 0xFF {
                throw InvalidInput("body: byte \(offset) is not UTF-8 JSON (only UTF-8 is accepted)")
            }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if offset - stringStart > maxStringBytes {
                        throw InvalidInput("body: a string at byte \(stringStart) is longer than \(maxStringBytes) bytes")
                    }
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"), UInt8(ascii: ":"):
                tokenStart = nil
                continue
            case UInt8(ascii: ","):
                tokenStart = nil
                expectingValue = true
                continue
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                tokenStart = nil
                if !counts.isEmpty { counts.removeLast() }
                expectingValue = false
                continue
            case UInt8(ascii: "\""), UInt8(ascii: "["), UInt8(ascii: "{"):
                tokenStart = nil
            default:
                // A number or a literal: as long as a string may be, no longer.
                if let start = tokenStart {
                    if offset - start >= maxStringBytes { throw InvalidInput("body: a value at byte \(start) is longer than \(maxStringBytes) bytes") }
                } else {
                    tokenStart = offset
                }
            }
            // The first byte of a value or a key.
            if expectingValue, !counts.isEmpty {
                counts[counts.count - 1] += 1
                if counts[counts.count - 1] > maxListLength {
                    throw InvalidInput("body: a list or object at depth \(counts.count) has more than \(maxListLength) elements")
                }
            }
            expectingValue = false
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                stringStart = offset
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                counts.append(0)
                expectingValue = true
                if counts.count > maxDepth { throw InvalidInput("body: JSON nested deeper than \(maxDepth) levels") }
            default:
                break
            }
        }
        if inString && offset - stringStart > maxStringBytes {
            throw InvalidInput("body: a string at byte \(stringStart) is longer than \(maxStringBytes) bytes")
        }
    }
}
