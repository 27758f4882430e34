import Foundation
import SluiceCore

/// Verifies a contiguous range of the chain row by row, from its anchors, without the rest
/// of the log: an export being written, or an archived export read back years later.
public struct AuditRangeVerifier: Sendable {
    var walker: AuditChain.Walker
    var firstSeq: Int64?
    var lastSeq: Int64?
    /// Set at the first row that does not follow: where the walk stood, and the rows from there.
    var broken: (expectedSeq: Int64, expectedPrev: [UInt8])?
    var window: [AuditChain.ChainRow] = []
    let started = ContinuousClock.now

    /// - Parameters:
    ///   - firstSeq: the sequence number the range starts at.
    ///   - anchorPrevHash: the hash of the row before the range (hex; zeros before the first row).
    public init(firstSeq: Int64, anchorPrevHash: String) {
        walker = AuditChain.Walker(expectedSeq: firstSeq, expectedPrev: bytes(hex: anchorPrevHash) ?? [])
    }

    /// Takes the next row of the range, in order.
    public mutating func add(_ record: AuditRecord) {
        if firstSeq == nil { firstSeq = record.event.seq }
        lastSeq = record.event.seq
        let row = AuditChain.ChainRow(record)
        if broken == nil {
            if walker.accept(row) { return }
            broken = (walker.expectedSeq, walker.expectedPrev)
        }
        if window.count < AuditChain.diagnosisWindow { window.append(row) }
    }

    /// The verdict on everything added.
    /// - Parameters:
    ///   - anchorHash: the hash the range's last row must have (hex).
    ///   - lastSeq: the sequence number the range must end at.
    public func result(anchorHash: String?, lastSeq expectedLast: Int64?) -> AuditVerification {
        let d = ContinuousClock.now - started
        let elapsed = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        var problem: AuditChainProblem?
        var head: String?
        if let broken {
            problem = AuditChain.diagnose(expectedSeq: broken.expectedSeq, expectedPrev: broken.expectedPrev, window: window)
        } else {
            head = LowercaseHex.encode(walker.expectedPrev)
            let reached = walker.expectedSeq - 1
            if let expectedLast, reached < expectedLast {
                problem = AuditChainProblem(
                    kind: .deleted, seq: reached + 1, lastSeq: expectedLast,
                    message: "\(expectedLast > reached + 1 ? "rows \(reached + 1)...\(expectedLast), the end of the range, are" : "row \(expectedLast), the end of the range, is") missing (deleted)")
            } else if let anchorHash, let head, head != anchorHash.lowercased() {
                problem = AuditChainProblem(
                    kind: .edited, seq: reached,
                    message: "row \(reached) does not end the range with the anchored hash \(anchorHash): it was replaced, with every hash recomputed")
            }
        }
        return AuditVerification(rows: walker.rows, firstSeq: firstSeq, lastSeq: lastSeq, headHash: problem == nil ? head : nil, problem: problem, elapsedMs: elapsed)
    }
}
