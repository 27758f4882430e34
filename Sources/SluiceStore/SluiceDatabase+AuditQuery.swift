import Foundation
import GRDB
import SluiceCore

extension SluiceDatabase {
    /// The events matching `query`, in sequence order, with their chain hashes.
    ///
    /// Each filter is one SQL condition; the planner picks among the indexes on time, host,
    /// rollout, kind, actor, region and group (migrations 0001 and 0004).
    /// - Throws: `StoreError.invalid` for a query `AuditQuery.validate()` refuses.
    public func auditPage(_ query: AuditQuery) throws -> AuditPage {
        do { try query.validate() } catch { throw StoreError.invalid(error.message) }
        let (condition, arguments) = Self.auditCondition(query)
        let order = query.take == .first ? "ASC" : "DESC"
        return try writer.read { db in
            var rows = try Row.fetchAll(
                db, sql: "SELECT * FROM audit_events WHERE \(condition) ORDER BY seq \(order) LIMIT ?",
                arguments: arguments + [query.limit + 1])
            let more = rows.count > query.limit
            if more { rows.removeLast() }
            if query.take == .last { rows.reverse() }
            return AuditPage(records: rows.map(AuditRecord.init(row:)), more: more)
        }
    }

    /// The SQL condition and its arguments for every filter of `query` that is set.
    static func auditCondition(_ query: AuditQuery) -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        func add(_ clause: String, _ values: [(any DatabaseValueConvertible)?]) {
            clauses.append(clause)
            arguments += StatementArguments(values)
        }
        if let v = query.sinceMs { add("at_ms >= ?", [v]) }
        if let v = query.untilMs { add("at_ms < ?", [v]) }
        if let v = query.afterSeq { add("seq > ?", [v]) }
        if let v = query.throughSeq { add("seq <= ?", [v]) }
        if let v = query.rolloutID { add("rollout_id = ?", [v]) }
        if let v = query.hostID { add("host_id = ?", [v]) }
        if let v = query.region { add("region = ?", [v]) }
        if let v = query.group { add("group_key = ?", [v]) }
        if let v = query.package {
            add("(instr(' ' || package || ' ', ' ' || ? || ' ') > 0 OR instr(' ' || package || ' ', ' ' || ? || '=') > 0)", [v, v])
        }
        for (column, pattern) in [("actor", query.actor), ("kind", query.kind)] {
            guard let pattern else { continue }
            switch AuditQuery.TextMatch(pattern) {
            case .exact(let text): add("\(column) = ?", [text])
            case .prefix(let text): add("\(column) GLOB ?", [globEscaped(text) + "*"])
            }
        }
        return (clauses.isEmpty ? "1" : clauses.joined(separator: " AND "), arguments)
    }

    /// `text` as a literal GLOB pattern: `*`, `?` and `[` in brackets.
    static func globEscaped(_ text: String) -> String {
        var out = ""
        for character in text {
            out += character == "*" || character == "?" || character == "[" ? "[\(character)]" : String(character)
        }
        return out
    }

    /// One rollout's events, with the health changes of its hosts while they matter, and
    /// its redundancy groups (every assignment, started or not), for a postmortem.
    /// - Throws: `StoreError.notFound` when the log holds nothing about the rollout.
    public func rolloutHistory(_ id: Int64) throws -> RolloutHistory {
        try writer.read { db in
            let events = try Row.fetchAll(db, sql: "SELECT * FROM audit_events WHERE rollout_id = ? ORDER BY seq", arguments: [id])
                .map(AuditEvent.init(row:))
            let anchor = try Self.auditAnchor(db)
            guard let first = events.first else {
                throw StoreError.notFound("the audit log holds nothing about rollout \(id)" + (anchor.map { " after seq \($0.throughSeq): \($0.note)" } ?? ""))
            }
            // Its creation archived: the history starts part way through.
            let archived = first.kind == "rollout.created" ? nil : anchor
            let asOf = try Int64.fetchOne(db, sql: "SELECT max(at_ms) FROM audit_events") ?? first.atMs
            var groups: [String: Set<String>] = [:]
            if try db.tableExists("assignments") {
                for row in try Row.fetchAll(db, sql: "SELECT host_id, capacity_key FROM assignments WHERE rollout_id = ?", arguments: [id]) {
                    groups[row["capacity_key"], default: []].insert(row["host_id"])
                }
            }
            for event in events { if let group = event.groupKey, let host = event.hostID { groups[group, default: []].insert(host) } }
            let hosts = Set(groups.values.flatMap { $0 }).sorted()
            guard !hosts.isEmpty else { return RolloutHistory(rolloutID: id, events: events, groups: [:], asOfMs: asOf, archived: archived) }

            // (`+kind` keeps SQLite on the host's own index: the kind index would walk every
            // host's healthy reports until it met this one's.)
            // Health changes from the creation to the end; then, for hosts still unavailable
            // at the end, until they were healthy again (the window of the damage), and the
            // first healthy report after that for every host, which closes anything opened in it.
            let start = events.first { $0.kind == "rollout.created" }?.atMs ?? first.atMs
            let end = max(events.first { RolloutHistory.endKinds.contains($0.kind) }?.atMs ?? asOf, events.last?.atMs ?? first.atMs)
            let placeholders = Array(repeating: "?", count: hosts.count).joined(separator: ", ")
            let health = "host_id IN (\(placeholders)) AND kind IN ('host.healthy', 'host.unhealthy') AND rollout_id IS NULL"
            func healthEvents(after from: Int64, through: Int64) throws -> [AuditEvent] {
                try Row.fetchAll(
                    db, sql: "SELECT * FROM audit_events WHERE \(health) AND at_ms > ? AND at_ms <= ? ORDER BY seq",
                    arguments: StatementArguments(hosts) + [from, through]
                ).map(AuditEvent.init(row:))
            }
            var all = (events + (try healthEvents(after: start - 1, through: end))).sorted { $0.seq < $1.seq }
            let down = Set(Postmortem.intervals(all, rolloutID: id, asOfMs: end).filter(\.ongoing).map(\.host))
            var horizon = end
            for host in down.sorted() {
                let healthy = try Int64.fetchOne(
                    db, sql: "SELECT at_ms FROM audit_events WHERE host_id = ? AND at_ms > ? AND +kind = 'host.healthy' ORDER BY at_ms LIMIT 1",
                    arguments: [host, end])
                horizon = max(horizon, healthy ?? asOf)
            }
            if horizon > end {
                all += try healthEvents(after: end, through: horizon)
                for host in hosts {
                    all += try Row.fetchAll(
                        db,
                        sql: "SELECT * FROM audit_events WHERE host_id = ? AND at_ms > ? AND +kind = 'host.healthy' AND rollout_id IS NULL ORDER BY at_ms LIMIT 1",
                        arguments: [host, horizon]
                    ).map(AuditEvent.init(row:))
                }
            }
            return RolloutHistory(
                rolloutID: id, events: all.sorted { $0.seq < $1.seq }, groups: groups.mapValues { $0.sorted() }, asOfMs: asOf, archived: archived)
        }
    }
}

extension AuditRecord {
    init(row: Row) {
        self.init(event: AuditEvent(row: row), prevHash: LowercaseHex.encode(row["prev_hash"] as Data), hash: LowercaseHex.encode(row["hash"] as Data))
    }
}


/// The bytes of a hex string; `nil` unless it is an even number of hex digits.
func bytes(hex: String) -> [UInt8]? {
    let utf8 = Array(hex.utf8)
    guard utf8.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count / 2)
    var index = 0
    while index < utf8.count {
        guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
        out.append(high << 4 | low)
        index += 2
    }
    return out
}
