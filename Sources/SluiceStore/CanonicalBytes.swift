/// Builds `prev_hash || AuditEvent.canonicalBytes` for one stored row straight from SQLite's
/// column buffers, reusing one allocation: the verify loop runs a million times a second.
struct CanonicalBytes {
    private(set) var bytes: [UInt8] = []

    static let header: [UInt8] = [0, 0, 0, 15] + Array("sluice-audit-v1".utf8)

    init() { bytes.reserveCapacity(8192) }

    mutating func reset() { bytes.removeAll(keepingCapacity: true) }

    mutating func raw(_ buffer: UnsafeRawBufferPointer) { bytes.append(contentsOf: buffer) }

    mutating func header() { bytes.append(contentsOf: Self.header) }

    /// A text field: its length, big-endian on 4 bytes, then its bytes; `nil` as 0xFFFFFFFF.
    mutating func field(_ buffer: UnsafeRawBufferPointer?) {
        guard let buffer else { return absent() }
        length(buffer.count)
        bytes.append(contentsOf: buffer)
    }

    mutating func absent() { bytes.append(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF] as [UInt8]) }

    mutating func length(_ n: Int) {
        let value = UInt32(truncatingIfNeeded: n).bigEndian
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    /// A whole number as its decimal text (`String(value)`), as a field.
    mutating func number(_ value: Int64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 19 digits and a sign
        withUnsafeMutableBytes(of: &digits) { out in
            var magnitude = value.magnitude
            var index = out.count
            repeat {
                index -= 1
                out[index] = UInt8(truncatingIfNeeded: 48 + magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                index -= 1
                out[index] = UInt8(ascii: "-")
            }
            length(out.count - index)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: out[index...]))
        }
    }
}
