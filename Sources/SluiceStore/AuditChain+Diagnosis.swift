import Crypto
import Foundation
import SluiceCore

extension AuditChain {
    /// One stored row with its chain hashes, as raw bytes.
    struct ChainRow: Sendable, Equatable {
        var event: AuditEvent
        var prevHash: [UInt8]
        var hash: [UInt8]

        init(event: AuditEvent, prevHash: [UInt8], hash: [UInt8]) {
            self.event = event
            self.prevHash = prevHash
            self.hash = hash
        }

        /// From a record whose hashes are hex; a malformed hash becomes empty (and fails).
        init(_ record: AuditRecord) {
            self.init(event: record.event, prevHash: bytes(hex: record.prevHash) ?? [], hash: bytes(hex: record.hash) ?? [])
        }

        /// Whether the stored hash covers this content, read as if the row's sequence number were `seq`.
        func isSelfConsistent(asSeq seq: Int64? = nil) -> Bool {
            var event = event
            if let seq { event.seq = seq }
            var hasher = SHA256()
            hasher.update(data: prevHash)
            hasher.update(data: event.canonicalBytes)
            return Array(hasher.finalize()) == hash
        }
    }

    /// How far past a broken row the diagnosis looks for where a moved or displaced row went.
    static let diagnosisWindow = 256

    /// Walks rows one at a time from a known position, as a file or a range is read.
    struct Walker {
        var expectedSeq: Int64
        var expectedPrev: [UInt8]
        var rows: Int64 = 0

        /// Whether `row` follows from the rows before it; on `true` the walker moves past it.
        mutating func accept(_ row: ChainRow) -> Bool {
            guard row.event.seq == expectedSeq, row.prevHash == expectedPrev, row.isSelfConsistent() else { return false }
            expectedSeq += 1
            expectedPrev = row.hash
            rows += 1
            return true
        }
    }

    /// Names what happened at the first row that does not follow from the chain before it.
    /// - Parameters:
    ///   - expectedSeq: the sequence number the next row must have.
    ///   - expectedPrev: the hash of the last good row (or the range's anchor).
    ///   - window: the rows from the broken one on, in stored order, up to `diagnosisWindow`.
    static func diagnose(expectedSeq k: Int64, expectedPrev: [UInt8], window: [ChainRow]) -> AuditChainProblem {
        guard let row = window.first else {
            return AuditChainProblem(kind: .deleted, seq: k, message: "row \(k) and every row after it are missing (deleted)")
        }
        let seq = row.event.seq
        if seq > k {
            let range = seq - 1 > k ? "rows \(k)...\(seq - 1) are" : "row \(k) is"
            return AuditChainProblem(kind: .deleted, seq: k, lastSeq: seq - 1, message: "\(range) missing (deleted); the chain resumes at \(seq)")
        }
        if seq < k {
            return AuditChainProblem(kind: .reordered, seq: seq, message: "row \(seq) appears after row \(k - 1): rows are out of order")
        }
        let links = row.prevHash == expectedPrev
        let consistent = row.isSelfConsistent()
        let later = window.dropFirst()
        // Reordered: the row this one links to comes after it.
        if !links, let predecessor = later.first(where: { $0.hash == row.prevHash }) {
            let other = predecessor.event.seq
            return AuditChainProblem(
                kind: .reordered, seq: k, lastSeq: other,
                message: "rows were reordered: row \(k) belongs after the row now at seq \(other)")
        }
        // Inserted: the original row k sits further on, still linked to the last good row.
        if let original = later.first(where: { $0.prevHash == expectedPrev && $0.isSelfConsistent(asSeq: k) }) {
            let moved = original.event.seq
            let range = moved - 1 > k ? "rows \(k)...\(moved - 1) were" : "row \(k) was"
            return AuditChainProblem(
                kind: .inserted, seq: k, lastSeq: moved - 1,
                message: "\(range) inserted: the controller never wrote them; the original row \(k) is now at seq \(moved)")
        }
        // Renumbered after a deletion: the row's hash holds under a later sequence number.
        if !links, let gap = (1...64).first(where: { row.isSelfConsistent(asSeq: k + Int64($0)) }) {
            let range = gap > 1 ? "rows \(k)...\(k + Int64(gap) - 1) were" : "row \(k) was"
            return AuditChainProblem(
                kind: .deleted, seq: k, lastSeq: k + Int64(gap) - 1,
                message: "\(range) deleted and the rows after renumbered (the row now at \(k) was written as \(k + Int64(gap)))")
        }
        // Renumbered after an insertion: the row's hash holds under an earlier sequence number.
        if !links, let shift = (1...64).first(where: { Int64($0) < k && row.isSelfConsistent(asSeq: k - Int64($0)) }) {
            let first = k - Int64(shift)
            return AuditChainProblem(
                kind: .inserted, seq: first, lastSeq: k - 1,
                message: "\(shift > 1 ? "rows \(first)...\(k - 1) were" : "row \(first) was") inserted: the row now at \(k) was written as \(first)")
        }
        if links {
            return AuditChainProblem(kind: .edited, seq: k, message: "row \(k) was edited: its content does not match its hash")
        }
        if consistent {
            return AuditChainProblem(
                kind: .unlinked, seq: k,
                message: "row \(k) does not link to row \(k - 1): row \(k - 1) was edited and its hash recomputed, or row \(k) was replaced")
        }
        return AuditChainProblem(
            kind: .inserted, seq: k,
            message: "row \(k) does not belong to the chain (inserted or replaced): it matches neither the row before it nor its own hash")
    }
}
