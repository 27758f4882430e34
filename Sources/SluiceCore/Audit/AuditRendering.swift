import Foundation

/// The four ways `sluicectl audit` prints events. Pure: events in, text out.
public struct AuditRendering: Sendable {
    /// The reader's zone for `timeline`, `table` and `csv`; NDJSON is always UTC.
    public var zone: TimeZone

    public init(zone: TimeZone) { self.zone = zone }

    /// How instants are written in one listing: with milliseconds when two neighbouring
    /// events fall in the same second at different milliseconds (so their order is visible), with the year when the listing
    /// spans more than one, and with the UTC offset when it spans a daylight saving change.
    public struct TimeStyle: Sendable, Equatable {
        public var milliseconds: Bool
        public var year: Bool
        public var offset: Bool

        public init(instants: [Int64], zone: TimeZone) {
            milliseconds = zip(instants, instants.dropFirst()).contains { $0.0 != $0.1 && $0.0 / 1000 == $0.1 / 1000 }
            let civil = instants.map { AuditTime.civil($0, in: zone) }
            year = Set(civil.map(\.year)).count > 1
            offset = Set(civil.map(\.offsetSeconds)).count > 1
        }

        public func format(_ ms: Int64, in zone: TimeZone) -> String {
            AuditTime.short(ms, in: zone, milliseconds: milliseconds, year: year, offset: offset)
        }
    }

    /// A header naming the zone, then one line per event: `Jul. 24 08:20:31  sentence`.
    public func timeline(_ events: [AuditEvent]) -> String {
        let style = TimeStyle(instants: events.map(\.atMs), zone: zone)
        var out = "# All times are \(AuditTime.describe(zone, instants: events.map(\.atMs)))\n"
        for event in events {
            out += style.format(event.atMs, in: zone) + "  " + AuditWording.sentence(event) + "\n"
        }
        return out
    }

    /// Columns padded to their widest cell; the sentence last.
    public func table(_ events: [AuditEvent]) -> String {
        let style = TimeStyle(instants: events.map(\.atMs), zone: zone)
        let header = ["SEQ", "TIME", "ACTOR", "KIND", "ROLLOUT", "WAVE", "HOST", "GROUP", "WHAT"]
        let rows = events.map { e in
            [
                String(e.seq), style.format(e.atMs, in: zone), e.actor, e.kind, e.rolloutID.map(String.init) ?? "-", e.wave ?? "-",
                e.hostID ?? "-", e.groupKey ?? "-", AuditWording.sentence(e),
            ]
        }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return ([header] + rows).map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// RFC 4180: a header line, CRLF line ends, fields with a comma, quote, CR or LF
    /// quoted and their quotes doubled. Times in RFC 3339 in the reader's zone.
    public func csv(_ events: [AuditEvent], header: Bool = true) -> String {
        var out = header ? "seq,time,actor,kind,rollout,wave,host,region,group,package,details\r\n" : ""
        for e in events {
            let fields = [
                String(e.seq), AuditTime.rfc3339(e.atMs, in: zone), e.actor, e.kind, e.rolloutID.map(String.init) ?? "", e.wave ?? "",
                e.hostID ?? "", e.region ?? "", e.groupKey ?? "", e.package ?? "", e.details,
            ]
            out += fields.map(Self.csvField).joined(separator: ",") + "\r\n"
        }
        return out
    }

    /// One CSV field, quoted when RFC 4180 requires it.
    public static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One event as one line of JSON (NDJSON): fixed key order, absent references left
    /// out, `at` in RFC 3339 UTC, and `details` as the JSON object it is.
    public static func ndjsonLine(_ e: AuditEvent) -> String {
        var out = "{\"seq\":\(e.seq),\"at\":\"\(AuditTime.rfc3339(e.atMs))\",\"atMs\":\(e.atMs),\"actor\":\(jsonString(e.actor)),\"kind\":\(jsonString(e.kind))"
        if let v = e.rolloutID { out += ",\"rollout\":\(v)" }
        for (name, value) in [("wave", e.wave), ("host", e.hostID), ("region", e.region), ("group", e.groupKey), ("package", e.package)] {
            if let value { out += ",\"\(name)\":\(jsonString(value))" }
        }
        // Splice the stored object in as it is, when it is one; anything else goes in as a string.
        let isObject = (try? JSONSerialization.jsonObject(with: Data(e.details.utf8))) is [String: Any]
        out += ",\"details\":" + (isObject && !e.details.contains("\n") ? e.details : jsonString(e.details)) + "}"
        return out
    }

    /// `text` as a JSON string literal.
    public static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
