import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GRDB
import SluiceCore

/// Audit retention: the oldest part of the chain moved to an archive file (the export
/// format, verifiable on its own), leaving an anchor from which the rest still verifies.
extension SluiceDatabase {
    /// Which rows an archive takes, from the first live one.
    public enum AuditArchiveLimit: Sendable, Equatable {
        /// Through this sequence number.
        case throughSeq(Int64)
        /// Every row before the first one written at or after this instant.
        case beforeMs(Int64)
    }

    /// A limit that selects nothing to archive, or rows already archived or never written.
    public struct AuditArchiveLimitError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The newest archive anchor, or nil when nothing was ever archived.
    public func auditAnchor() throws -> AuditArchiveAnchor? { try writer.read { db in try Self.auditAnchor(db) } }

    static func auditAnchor(_ db: Database) throws -> AuditArchiveAnchor? {
        guard try db.tableExists("audit_archives"),
            let row = try Row.fetchOne(db, sql: "SELECT * FROM audit_archives ORDER BY through_seq DESC LIMIT 1")
        else { return nil }
        return AuditArchiveAnchor(
            firstSeq: row["first_seq"], throughSeq: row["through_seq"], hash: LowercaseHex.encode(row["hash"] as Data), file: row["file"],
            fileSHA256: row["file_sha256"], actor: row["actor"], archivedAtMs: row["archived_at_ms"])
    }

    /// Where the live chain starts: seq 1 after 32 zero bytes, or just after the anchor.
    static func chainBase(_ anchor: AuditArchiveAnchor?) -> (seq: Int64, prev: [UInt8]) {
        guard let anchor else { return (1, [UInt8](repeating: 0, count: 32)) }
        return (anchor.throughSeq + 1, bytes(hex: anchor.hash) ?? [])
    }

    /// The newest anchor must be the one `archiveAudit` recorded with its `audit.archived`
    /// event, which stays in the live chain after it: rows deleted under an anchor inserted
    /// by hand are reported like rows deleted without one.
    static func unrecordedAnchorProblem(_ db: Database, _ anchor: AuditArchiveAnchor?) throws -> AuditChainProblem? {
        guard let anchor else { return nil }
        let recorded = try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM audit_events WHERE kind = 'audit.archived' AND seq > ?
                AND json_extract(details, '$.throughSeq') = ? AND json_extract(details, '$.hash') = ?)
                """, arguments: [anchor.throughSeq, String(anchor.throughSeq), anchor.hash]) ?? false
        guard !recorded else { return nil }
        let range = anchor.throughSeq > anchor.firstSeq ? "rows \(anchor.firstSeq)...\(anchor.throughSeq) are" : "row \(anchor.throughSeq) is"
        return AuditChainProblem(
            kind: .deleted, seq: anchor.firstSeq, lastSeq: anchor.throughSeq,
            message: "\(range) missing (deleted) under an archive anchor no audit.archived event records: they were not archived by sluiced")
    }

    /// Archives the oldest live rows through `limit` to `path` and deletes them, leaving an anchor.
    ///
    /// The whole chain (and the head witnessed beside a file database) must verify first. The
    /// file is written beside `path`, synced and renamed into place before the database is
    /// touched; then one transaction appends `audit.archived`, records the anchor and deletes
    /// the rows. A crash before the commit leaves the database as it was: run it again, and a
    /// complete archive of the same range already at `path` is used as it is.
    /// - Parameters:
    ///   - path: the archive file; an existing file is refused unless it is exactly this range.
    /// - Returns: the anchor recorded.
    /// - Throws: `AuditArchiveLimitError` for a limit that selects nothing; `StoreError.invalid`
    ///   for an empty log, a broken chain or an unusable file; `StoreError.conflict` when another archive ran meanwhile.
    public func archiveAudit(_ limit: AuditArchiveLimit, to path: String, actor: Actor, nowMs: Int64) throws -> AuditArchiveAnchor {
        let (anchor, header) = try writer.read { db in
            let anchor = try Self.auditAnchor(db)
            return (anchor, try Self.archiveHeader(db, limit, anchor: anchor, nowMs: nowMs))
        }
        let witnessed = isInMemory ? nil : try Self.witnessedHead(databasePath: self.path)
        let verdict = try verifyAudit(heads: witnessed.map { [$0] } ?? [])
        if let problem = verdict.problem { throw StoreError.invalid("refusing to archive: \(problem.description); nothing was changed") }
        guard let first = header.firstSeq, let through = header.lastSeq, let hash = header.anchorHash else {
            throw StoreError.invalid("nothing to archive")
        }

        let file = URL(fileURLWithPath: path).standardizedFileURL.path
        if FileManager.default.fileExists(atPath: file) {
            try Self.checkExistingArchive(file, matches: header)
        } else {
            try writeArchive(header: header, to: file)
        }
        let digest = try Self.sha256(ofFile: file)

        let recorded = AuditArchiveAnchor(
            firstSeq: first, throughSeq: through, hash: hash, file: file, fileSHA256: digest, actor: actor.description, archivedAtMs: nowMs)
        try writer.write { db in
            guard try Self.auditAnchor(db) == anchor else {
                throw StoreError.conflict("another archive was recorded meanwhile; nothing was changed: run it again")
            }
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: recorded.actor, kind: "audit.archived",
                    details: json([
                        "firstSeq": String(first), "throughSeq": String(through), "hash": hash, "file": file, "sha256": digest,
                    ])))
            try db.execute(
                sql: "INSERT INTO audit_archives (first_seq, through_seq, hash, file, file_sha256, actor, archived_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [first, through, Data(bytes(hex: hash) ?? []), file, digest, recorded.actor, nowMs])
            try db.execute(sql: "DELETE FROM audit_events WHERE seq <= ?", arguments: [through])
        }
        return recorded
    }

    /// The export header of the rows an archive through `limit` takes.
    static func archiveHeader(_ db: Database, _ limit: AuditArchiveLimit, anchor: AuditArchiveAnchor?, nowMs: Int64) throws -> AuditExportHeader {
        guard let low = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM audit_events"),
            let high = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM audit_events")
        else { throw StoreError.invalid("the audit log is empty: nothing to archive") }
        let archived = anchor.map { "; seq 1...\($0.throughSeq) is archived already" } ?? ""
        let through: Int64
        var untilMs: Int64?
        switch limit {
        case .throughSeq(let seq):
            guard seq >= low else { throw AuditArchiveLimitError(description: "seq \(seq) is before the live log, which starts at seq \(low)\(archived)") }
            guard seq <= high else { throw AuditArchiveLimitError(description: "seq \(seq) is past the end of the log, which ends at seq \(high)") }
            through = seq
        case .beforeMs(let ms):
            untilMs = ms
            // Nothing written at or after the instant is archived, whatever the rows around it say.
            let next = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM audit_events WHERE at_ms >= ?", arguments: [ms])
            through = next.map { $0 - 1 } ?? high
            guard through >= low else {
                let oldest = try Int64.fetchOne(db, sql: "SELECT at_ms FROM audit_events WHERE seq = ?", arguments: [low]) ?? ms
                throw AuditArchiveLimitError(description: "no live event is before \(AuditTime.rfc3339(ms)): the oldest, seq \(low), is from \(AuditTime.rfc3339(oldest))\(archived)")
            }
        }
        let prev = try Data.fetchOne(db, sql: "SELECT prev_hash FROM audit_events WHERE seq = ?", arguments: [low]) ?? Data()
        let hash = try Data.fetchOne(db, sql: "SELECT hash FROM audit_events WHERE seq = ?", arguments: [through]) ?? Data()
        let rows = try Int64.fetchOne(db, sql: "SELECT count(*) FROM audit_events WHERE seq BETWEEN ? AND ?", arguments: [low, through]) ?? 0
        return AuditExportHeader(
            firstSeq: low, lastSeq: through, rows: rows, anchorPrevHash: LowercaseHex.encode(prev), anchorHash: LowercaseHex.encode(hash),
            sinceMs: nil, untilMs: untilMs, exportedAtMs: nowMs)
    }

    /// Writes the range to `<path>.partial`, syncs it, renames it to `path` and syncs the directory.
    func writeArchive(header: AuditExportHeader, to path: String) throws {
        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: partial)
        else { throw StoreError.invalid("cannot write \(partial): \(String(cString: strerror(errno)))") }
        do {
            let (_, verdict) = try exportAudit(header: header) { try handle.write(contentsOf: Data($0.utf8)) }
            if let problem = verdict.problem { throw StoreError.invalid("refusing to archive: \(problem.description); nothing was changed") }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        guard rename(partial, path) == 0 else { throw StoreError.invalid("cannot rename \(partial) to \(path): \(String(cString: strerror(errno)))") }
        let directory = Glibc.open((path as NSString).deletingLastPathComponent, O_RDONLY)
        if directory >= 0 {
            _ = fsync(directory)
            Glibc.close(directory)
        }
    }

    /// An archive left by a run that stopped before its commit is used again; anything else is refused.
    static func checkExistingArchive(_ path: String, matches header: AuditExportHeader) throws {
        let existing = try? verifyAuditExport(path: path)
        let read = try? exportHeader(path: path)
        guard let existing, existing.intact, let read, read.firstSeq == header.firstSeq, read.lastSeq == header.lastSeq,
            read.anchorPrevHash == header.anchorPrevHash, read.anchorHash == header.anchorHash
        else {
            throw StoreError.invalid(
                "\(path) exists and is not a complete archive of seq \(header.firstSeq ?? 0)...\(header.lastSeq ?? 0); refusing to overwrite it; nothing was changed")
        }
    }

    /// Verifies archive files, each on its own and then as one chain ending at `anchor`, the
    /// row the live log resumes from: with the live log verified too, the whole chain is.
    /// - Parameter paths: the archive files, in any order.
    /// - Returns: the verdict on the archived rows, from the oldest file's first row to the anchor.
    public static func verifyAuditArchives(paths: [String], anchor: AuditArchiveAnchor?) throws -> AuditVerification {
        var files: [(path: String, header: AuditExportHeader, verdict: AuditVerification)] = []
        for path in paths {
            let verdict = try verifyAuditExport(path: path)
            if let problem = verdict.problem {
                return AuditVerification(
                    rows: verdict.rows, firstSeq: verdict.firstSeq, lastSeq: verdict.lastSeq, headHash: nil,
                    problem: AuditChainProblem(kind: problem.kind, seq: problem.seq, lastSeq: problem.lastSeq, message: "\(path): \(problem.message)"),
                    elapsedMs: verdict.elapsedMs)
            }
            files.append((path, try exportHeader(path: path), verdict))
        }
        files.sort { ($0.header.firstSeq ?? 0) < ($1.header.firstSeq ?? 0) }
        var rows: Int64 = 0
        var problem: AuditChainProblem?
        var previous: (path: String, header: AuditExportHeader)?
        for file in files {
            guard let first = file.header.firstSeq else {
                problem = AuditChainProblem(kind: .deleted, seq: 1, message: "\(file.path) holds no rows: not an archive")
                break
            }
            if let previous, let end = previous.header.lastSeq, first != end + 1 || file.header.anchorPrevHash != previous.header.anchorHash {
                problem = first > end + 1
                    ? AuditChainProblem(
                        kind: .deleted, seq: end + 1, lastSeq: first - 1,
                        message: "rows \(end + 1)...\(first - 1) are in no archive given: \(previous.path) ends at \(end), \(file.path) starts at \(first)")
                    : AuditChainProblem(kind: .unlinked, seq: first, message: "\(file.path) does not continue \(previous.path): its first row does not link to that archive's head")
                break
            }
            rows += file.verdict.rows
            previous = (file.path, file.header)
        }
        if problem == nil, let last = previous {
            if let anchor {
                if last.header.lastSeq != anchor.throughSeq || last.header.anchorHash != anchor.hash {
                    problem = AuditChainProblem(
                        kind: .unlinked, seq: anchor.throughSeq,
                        message: "\(last.path) ends at \(last.header.lastSeq ?? 0):\(last.header.anchorHash ?? "-"), not at the anchor \(anchor.throughSeq):\(anchor.hash) the live log resumes from (\(anchor.note))")
                }
            } else {
                problem = AuditChainProblem(kind: .unlinked, seq: 1, message: "the database has no archive anchor: \(last.path) is not an archive of it")
            }
        }
        return AuditVerification(
            rows: rows, firstSeq: files.first?.header.firstSeq, lastSeq: previous?.header.lastSeq, headHash: problem == nil ? previous?.header.anchorHash : nil,
            problem: problem, elapsedMs: files.reduce(0) { $0 + $1.verdict.elapsedMs })
    }

    /// The header line of an export file.
    static func exportHeader(path: String) throws -> AuditExportHeader {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError.notFound("cannot read \(path)") }
        defer { try? handle.close() }
        var start = Data()
        while !start.contains(0x0A), let chunk = try handle.read(upToCount: 65_536), !chunk.isEmpty { start.append(chunk) }
        do { return try AuditExportFormat.header(fromLine: String(decoding: start.prefix { $0 != 0x0A }, as: UTF8.self)) } catch {
            throw StoreError.invalid("\(path):1: \(error.message)")
        }
    }

    /// SHA-256 of a file's bytes, in hex.
    static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError.invalid("cannot read \(path)") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return LowercaseHex.encode(Array(hasher.finalize()))
    }
}
