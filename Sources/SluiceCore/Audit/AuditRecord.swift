/// An audit event as stored: with the chain hashes that link it to the row before it.
public struct AuditRecord: Sendable, Equatable, Codable {
    public var event: AuditEvent
    /// The previous row's hash, 64 lowercase hex digits (zeros before the first row).
    public var prevHash: String
    /// SHA-256 over `prevHash` and the event's canonical bytes, 64 lowercase hex digits.
    public var hash: String

    public init(event: AuditEvent, prevHash: String, hash: String) {
        self.event = event
        self.prevHash = prevHash
        self.hash = hash
    }
}

/// `GET /v1/audit`: one page of events in sequence order.
public struct AuditPage: Sendable, Equatable, Codable {
    public var records: [AuditRecord]
    /// More events match beyond the limit (before the first for `take=last`, after the last
    /// for `take=first`).
    public var more: Bool

    public init(records: [AuditRecord], more: Bool) {
        self.records = records
        self.more = more
    }

    public var events: [AuditEvent] { records.map(\.event) }
}

/// What is wrong with the chain at the first row that does not follow from the one before it.
public struct AuditChainProblem: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// The row's content does not match its hash.
        case edited
        /// Rows are missing: `seq...lastSeq` (at the end of the log when `lastSeq` is the last one ever written).
        case deleted
        /// Rows that were never written by the controller sit at `seq...lastSeq`.
        case inserted
        /// The row at `seq` belongs elsewhere in the chain.
        case reordered
        /// The row does not link to the one before it, and nothing more precise can be said.
        case unlinked
        /// The row's hash is not the one a head recorded earlier names: the chain was
        /// rewritten from there or before.
        case rewritten
    }

    public var kind: Kind
    /// The first row concerned (for `deleted`: the first missing sequence number).
    public var seq: Int64
    /// The last row concerned, when it is a range.
    public var lastSeq: Int64?
    /// One line for people.
    public var message: String

    public init(kind: Kind, seq: Int64, lastSeq: Int64? = nil, message: String) {
        self.kind = kind
        self.seq = seq
        self.lastSeq = lastSeq
        self.message = message
    }

    public var description: String { "audit chain broken at seq \(seq): \(message)" }
}

/// `GET /v1/audit/verify` and `sluicectl audit verify`: the result of walking the chain.
public struct AuditVerification: Sendable, Equatable, Codable {
    /// Rows read.
    public var rows: Int64
    public var firstSeq: Int64?
    public var lastSeq: Int64?
    /// The last row's hash (hex): note it down, and a later verify proves nothing before it changed.
    public var headHash: String?
    /// `nil` when the chain is intact.
    public var problem: AuditChainProblem?
    public var elapsedMs: Int64

    public init(rows: Int64, firstSeq: Int64?, lastSeq: Int64?, headHash: String?, problem: AuditChainProblem?, elapsedMs: Int64) {
        self.rows = rows
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.headHash = headHash
        self.problem = problem
        self.elapsedMs = elapsedMs
    }

    public var intact: Bool { problem == nil }

    /// One line for people: `audit chain intact: 1200 rows (seq 1...1200), head 1200:3fa2...`.
    public var summary: String {
        if let problem { return problem.description }
        guard let firstSeq, let lastSeq else { return "audit log is empty" }
        let rate = elapsedMs > 0 ? ", \(rows * 1000 / elapsedMs) rows/s" : ""
        return "audit chain intact: \(rows) rows (seq \(firstSeq)...\(lastSeq)), head \(lastSeq):\(headHash ?? "?"), verified in \(AuditTime.duration(elapsedMs))\(rate)"
    }
}

/// The first line of an NDJSON export: where the range sits in the chain, so that it can
/// be verified alone, years later, without the database.
public struct AuditExportHeader: Sendable, Equatable, Codable {
    /// Always `sluice-audit-export`.
    public var format: String
    public var version: Int
    public var firstSeq: Int64?
    public var lastSeq: Int64?
    public var rows: Int64
    /// The `prevHash` of the first row: the hash of the row just before the range.
    public var anchorPrevHash: String?
    /// The hash of the last row: the head of the range.
    public var anchorHash: String?
    /// The range asked for (ms since the epoch, UTC); the export holds every row from the
    /// first at or after `sinceMs` to the last before `untilMs`, and every row between them.
    public var sinceMs: Int64?
    public var untilMs: Int64?
    public var exportedAtMs: Int64

    public static let formatName = "sluice-audit-export"

    public init(
        firstSeq: Int64?, lastSeq: Int64?, rows: Int64, anchorPrevHash: String?, anchorHash: String?, sinceMs: Int64?, untilMs: Int64?,
        exportedAtMs: Int64
    ) {
        self.format = Self.formatName
        self.version = 1
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.rows = rows
        self.anchorPrevHash = anchorPrevHash
        self.anchorHash = anchorHash
        self.sinceMs = sinceMs
        self.untilMs = untilMs
        self.exportedAtMs = exportedAtMs
    }
}
