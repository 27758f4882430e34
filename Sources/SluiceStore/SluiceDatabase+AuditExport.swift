import Foundation
import GRDB
import SluiceCore

extension SluiceDatabase {
    /// The contiguous range of the chain an export of `sinceMs..<untilMs` holds: from the
    /// first row at or after `sinceMs` to the last row before `untilMs`, and every row between
    /// them (even one whose clock reading fell outside), so the range verifies on its own.
    /// - Returns: the header for that range, written before the rows.
    public func auditExportHeader(sinceMs: Int64?, untilMs: Int64?, nowMs: Int64) throws -> AuditExportHeader {
        try writer.read { db in
            let first = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM audit_events WHERE at_ms >= ?", arguments: [sinceMs ?? Int64.min])
            let last = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM audit_events WHERE at_ms < ?", arguments: [untilMs ?? Int64.max])
            guard let first, let last, first <= last else {
                return AuditExportHeader(
                    firstSeq: nil, lastSeq: nil, rows: 0, anchorPrevHash: nil, anchorHash: nil, sinceMs: sinceMs, untilMs: untilMs, exportedAtMs: nowMs)
            }
            let prev = try Data.fetchOne(db, sql: "SELECT prev_hash FROM audit_events WHERE seq = ?", arguments: [first]) ?? Data()
            let hash = try Data.fetchOne(db, sql: "SELECT hash FROM audit_events WHERE seq = ?", arguments: [last]) ?? Data()
            let rows = try Int64.fetchOne(db, sql: "SELECT count(*) FROM audit_events WHERE seq BETWEEN ? AND ?", arguments: [first, last]) ?? 0
            return AuditExportHeader(
                firstSeq: first, lastSeq: last, rows: rows, anchorPrevHash: LowercaseHex.encode(prev), anchorHash: LowercaseHex.encode(hash), sinceMs: sinceMs,
                untilMs: untilMs, exportedAtMs: nowMs)
        }
    }

    /// Writes an NDJSON export of `sinceMs..<untilMs` (see `auditExportHeader`): the header
    /// line, then each row with its hashes, verifying the range as it goes.
    /// - Parameters:
    ///   - write: receives the text in pieces of about 64 KiB, each ending with a line break.
    /// - Returns: the header written and the verdict on the rows written.
    public func exportAudit(
        sinceMs: Int64?, untilMs: Int64?, nowMs: Int64, write: (String) throws -> Void
    ) throws -> (AuditExportHeader, AuditVerification) {
        try exportAudit(header: try auditExportHeader(sinceMs: sinceMs, untilMs: untilMs, nowMs: nowMs), write: write)
    }

    /// Writes the header, then the rows of its range, verifying them as it goes.
    func exportAudit(header: AuditExportHeader, write: (String) throws -> Void) throws -> (AuditExportHeader, AuditVerification) {
        try write(AuditExportFormat.headerLine(header) + "\n")
        guard let first = header.firstSeq, let last = header.lastSeq, let anchor = header.anchorPrevHash else {
            return (header, AuditVerification(rows: 0, firstSeq: nil, lastSeq: nil, headHash: nil, problem: nil, elapsedMs: 0))
        }
        var verifier = AuditRangeVerifier(firstSeq: first, anchorPrevHash: anchor)
        try writer.read { db in
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit_events WHERE seq BETWEEN ? AND ? ORDER BY seq", arguments: [first, last])
            var pending = ""
            while let row = try cursor.next() {
                let record = AuditRecord(row: row)
                verifier.add(record)
                pending += AuditExportFormat.line(record) + "\n"
                if pending.utf8.count >= 65_536 {
                    try write(pending)
                    pending = ""
                }
            }
            if !pending.isEmpty { try write(pending) }
        }
        return (header, verifier.result(anchorHash: header.anchorHash, lastSeq: last))
    }

    /// Verifies an NDJSON export on its own, from its header's anchors: no database needed.
    /// - Parameter path: the export file.
    /// - Throws: `StoreError.invalid` when the file is not an export.
    public static func verifyAuditExport(path: String) throws -> AuditVerification {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError.notFound("cannot read \(path)") }
        defer { try? handle.close() }
        var header: AuditExportHeader?
        var verifier: AuditRangeVerifier?
        var buffer = Data()
        var lineNumber = 0
        func take(_ line: Data) throws {
            lineNumber += 1
            let text = String(decoding: line, as: UTF8.self)
            do {
                guard header != nil else {
                    let read = try AuditExportFormat.header(fromLine: text)
                    header = read
                    verifier = AuditRangeVerifier(firstSeq: read.firstSeq ?? 1, anchorPrevHash: read.anchorPrevHash ?? "")
                    return
                }
                guard !text.isEmpty else { return }
                verifier!.add(try AuditExportFormat.record(fromLine: text))
            } catch {
                throw StoreError.invalid("\(path):\(lineNumber): \(error.message)")
            }
        }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            buffer.append(chunk)
            var start = buffer.startIndex
            while let newline = buffer[start...].firstIndex(of: 0x0A) {
                try take(buffer[start..<newline])
                start = newline + 1
            }
            buffer = Data(buffer[start...])
        }
        if !buffer.isEmpty { try take(buffer) }
        guard let header, let verifier else { throw StoreError.invalid("\(path) is empty: not a Sluice audit export") }
        if header.rows == 0 { return AuditVerification(rows: 0, firstSeq: nil, lastSeq: nil, headHash: nil, problem: nil, elapsedMs: 0) }
        return verifier.result(anchorHash: header.anchorHash, lastSeq: header.lastSeq)
    }
}
