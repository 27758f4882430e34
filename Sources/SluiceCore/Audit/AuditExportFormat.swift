import Foundation

/// The archive format of `sluicectl audit export`: NDJSON, a header line
/// (`AuditExportHeader`) then one row per line with its chain hashes. `details` stays the
/// exact string that was hashed, so the rows verify byte for byte years later.
public enum AuditExportFormat {
    /// One stored row as one line (without the line break).
    public static func line(_ record: AuditRecord) -> String {
        let e = record.event
        var out = "{\"seq\":\(e.seq),\"atMs\":\(e.atMs),\"actor\":\(AuditRendering.jsonString(e.actor)),\"kind\":\(AuditRendering.jsonString(e.kind))"
        if let v = e.rolloutID { out += ",\"rolloutID\":\(v)" }
        for (name, value) in [("wave", e.wave), ("hostID", e.hostID), ("region", e.region), ("groupKey", e.groupKey), ("package", e.package)] {
            if let value { out += ",\"\(name)\":\(AuditRendering.jsonString(value))" }
        }
        out += ",\"details\":\(AuditRendering.jsonString(e.details)),\"prevHash\":\"\(record.prevHash)\",\"hash\":\"\(record.hash)\"}"
        return out
    }

    /// Reads a line written by `line(_:)`.
    public static func record(fromLine text: some StringProtocol) throws(InvalidInput) -> AuditRecord {
        do {
            let l = try JSONDecoder().decode(ExportLine.self, from: Data(text.utf8))
            return AuditRecord(
                event: AuditEvent(
                    seq: l.seq, atMs: l.atMs, actor: l.actor, kind: l.kind, rolloutID: l.rolloutID, wave: l.wave, hostID: l.hostID,
                    region: l.region, groupKey: l.groupKey, package: l.package, details: l.details),
                prevHash: l.prevHash, hash: l.hash)
        } catch {
            throw InvalidInput("not an exported audit row: \(quoted(String(text), limit: 120))")
        }
    }

    /// The header line.
    public static func headerLine(_ header: AuditExportHeader) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(header)) ?? Data(), as: UTF8.self)
    }

    /// Reads the header line.
    public static func header(fromLine text: some StringProtocol) throws(InvalidInput) -> AuditExportHeader {
        guard let header = try? JSONDecoder().decode(AuditExportHeader.self, from: Data(text.utf8)),
            header.format == AuditExportHeader.formatName
        else {
            throw InvalidInput("not a Sluice audit export: the first line is not a \(AuditExportHeader.formatName) header")
        }
        guard header.version == 1 else {
            throw InvalidInput("audit export version \(header.version) is newer than this sluicectl reads (1)")
        }
        return header
    }
}

/// One row of an export as JSON reads it.
private struct ExportLine: Decodable {
    var seq: Int64, atMs: Int64, actor: String, kind: String, rolloutID: Int64?, wave: String?, hostID: String?
    var region: String?, groupKey: String?, package: String?, details: String, prevHash: String, hash: String
}
