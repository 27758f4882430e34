/// The head of the audit chain at one moment: its last row's sequence number and hash. Kept
/// where the database's writer cannot rewrite it, a head makes truncating or rewriting the
/// chain up to it detectable (`sluicectl audit verify --head SEQ:HASH`).
public struct AuditHead: Sendable, Codable, Equatable, CustomStringConvertible {
    public var seq: Int64
    /// 64 lowercase hexadecimal digits.
    public var hash: String
    /// When it was recorded (ms since the epoch), when known.
    public var atMs: Int64?

    public init(seq: Int64, hash: String, atMs: Int64? = nil) {
        self.seq = seq
        self.hash = hash
        self.atMs = atMs
    }

    /// `SEQ:HASH`, as `audit verify` prints it and `--head` takes it.
    public var description: String { "\(seq):\(hash)" }

    /// Parses `SEQ:HASH`.
    public init(parsing text: String) throws(InvalidInput) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let seq = Int64(parts[0]), seq >= 1, String(seq) == parts[0],
            parts[1].utf8.count == 64, parts[1].utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else {
            throw InvalidInput("invalid audit head \(quoted(text)): expected SEQ:HASH, a sequence number and 64 lowercase hexadecimal digits")
        }
        self.init(seq: seq, hash: String(parts[1]))
    }
}
