import Foundation

/// Where the live audit chain starts after `sluiced audit archive`: the range moved to an
/// archive file, and the hash of its last row, which the first remaining row links to.
public struct AuditArchiveAnchor: Sendable, Equatable, Codable {
    /// The first row of the archived range.
    public var firstSeq: Int64
    /// The last archived row: the live chain resumes at `throughSeq + 1`.
    public var throughSeq: Int64
    /// The last archived row's hash (hex), the archive's head.
    public var hash: String
    /// The archive file as it was written (an absolute path).
    public var file: String
    /// SHA-256 of the archive file (hex).
    public var fileSHA256: String
    public var actor: String
    public var archivedAtMs: Int64

    public init(firstSeq: Int64, throughSeq: Int64, hash: String, file: String, fileSHA256: String, actor: String, archivedAtMs: Int64) {
        self.firstSeq = firstSeq
        self.throughSeq = throughSeq
        self.hash = hash
        self.file = file
        self.fileSHA256 = fileSHA256
        self.actor = actor
        self.archivedAtMs = archivedAtMs
    }

    /// One clause for notes: `events through seq 120 are archived in /srv/audit-2026.ndjson (sha256 ab12...)`.
    public var note: String { "events through seq \(throughSeq) are archived in \(file) (sha256 \(fileSHA256))" }
}
