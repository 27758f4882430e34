import Foundation
import GRDB
import SluiceCore

extension SluiceDatabase {
    /// Compares the labels an agent reports with its host's approved ones, inside the
    /// report's transaction. The approved labels never change here: a difference becomes a
    /// request (audited once, `host.labels_requested`), and labels that match again withdraw
    /// a pending one (`host.labels_request_withdrawn`).
    /// - Parameter reported: `nil` when the agent has no labels configured: it asks for nothing.
    /// - Returns: the request the agent's labels make, pending or rejected; `nil` when they match.
    func recordReportedLabels(_ db: Database, host: HostID, reported: Labels?, nowMs: Int64) throws -> LabelChange? {
        guard let reported else { return nil }
        let approved = try approvedLabels(db, host)
        let request = try labelRequest(db, host, approved: approved)
        if reported == approved {
            guard let request else { return nil }
            try db.execute(sql: "DELETE FROM host_label_requests WHERE host_id = ?", arguments: [host.rawValue])
            if request.rejectedAtMs == nil {
                try appendAudit(
                    db,
                    AuditEvent(
                        atMs: nowMs, actor: Actor.agent(host).description, kind: "host.labels_request_withdrawn", hostID: host.rawValue,
                        region: approved["region"], details: json(["requested": request.requested.description, "labels": approved.description])))
            }
            return nil
        }
        if let request, request.requested == reported { return request }
        // One pending request at a time: a host cannot swap what it asks for under an
        // operator who is looking at it, nor write an audit event per report. Only after an
        // operator has decided (rejected it) may it ask for something else.
        if let request, request.rejectedAtMs == nil { return request }
        try db.execute(
            sql: """
                INSERT INTO host_label_requests (host_id, labels, requested_at_ms) VALUES (?, ?, ?)
                ON CONFLICT (host_id) DO UPDATE SET labels = excluded.labels, requested_at_ms = excluded.requested_at_ms,
                    rejected_at_ms = NULL, rejected_by = NULL
                """,
            arguments: [host.rawValue, try encodeLabels(reported), nowMs])
        try appendAudit(
            db,
            AuditEvent(
                atMs: nowMs, actor: Actor.agent(host).description, kind: "host.labels_requested", hostID: host.rawValue, region: approved["region"],
                details: json(["labels": approved.description, "requested": reported.description])))
        return LabelChange(approved: approved, requested: reported, requestedAtMs: nowMs)
    }

    /// An operator's decision on a host's labels, audited with the reason in the same
    /// transaction: approve the agent's request (`host.labels_changed`), reject it
    /// (`host.labels_rejected`), or set other labels (`host.labels_changed`).
    ///
    /// Open rollouts keep the waves and groups they were planned with; the new labels count
    /// for rollouts planned from now on.
    /// - Throws: `StoreError.notFound` for a host that is not enrolled or was revoked;
    ///   `.conflict` while the host is applying an update, when there is no request to approve
    ///   or reject, or when the labels to set are the ones it has.
    /// - Returns: the labels before and after.
    @discardableResult
    public func decideLabels(
        host: HostID, _ decision: LabelDecision, reason: String, actor: Actor, nowMs: Int64
    ) throws -> (previous: Labels, labels: Labels) {
        try checkReason(reason)
        return try writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT revoked_at_ms FROM hosts WHERE id = ?", arguments: [host.rawValue]) else {
                throw StoreError.notFound("host \(host) is not enrolled")
            }
            guard (row["revoked_at_ms"] as Int64?) == nil else { throw StoreError.notFound("host \(host) has been revoked") }
            if let busy = try Row.fetchOne(
                db, sql: "SELECT id, state FROM assignments WHERE host_id = ? AND state IN ('started', 'applying', 'verifying') ORDER BY id LIMIT 1",
                arguments: [host.rawValue])
            {
                throw StoreError.conflict(
                    "host \(host) is \(busy["state"] as String) assignment \(busy["id"] as Int64); change its labels once that has finished")
            }
            let previous = try approvedLabels(db, host)
            let request = try labelRequest(db, host, approved: previous)
            let next: Labels
            switch decision {
            case .approve(let shown):
                guard let request, request.rejectedAtMs == nil else { throw StoreError.conflict("host \(host) has no pending label change to approve") }
                guard request.requested == shown else {
                    throw StoreError.conflict(
                        "host \(host) asks for \(request.requested.description.isEmpty ? "(none)" : request.requested.description), not the labels approved; look again and approve what it asks")
                }
                next = request.requested
            case .reject:
                guard let request, request.rejectedAtMs == nil else { throw StoreError.conflict("host \(host) has no pending label change to reject") }
                try db.execute(
                    sql: "UPDATE host_label_requests SET rejected_at_ms = ?, rejected_by = ? WHERE host_id = ? AND rejected_at_ms IS NULL",
                    arguments: [nowMs, actor.description, host.rawValue])
                try appendAudit(
                    db,
                    AuditEvent(
                        atMs: nowMs, actor: actor.description, kind: "host.labels_rejected", hostID: host.rawValue, region: previous["region"],
                        details: json(["labels": previous.description, "requested": request.requested.description, "reason": reason])))
                return (previous, previous)
            case .set(let labels):
                guard labels != previous else { throw StoreError.conflict("host \(host) already has labels \(previous.description.isEmpty ? "(none)" : previous.description)") }
                next = labels
            }
            try db.execute(sql: "DELETE FROM host_labels WHERE host_id = ?", arguments: [host.rawValue])
            for (key, value) in next {
                try db.execute(sql: "INSERT INTO host_labels (host_id, key, value) VALUES (?, ?, ?)", arguments: [host.rawValue, key, value])
            }
            // Approving or setting settles the request; an agent that still asks for other labels asks again.
            try db.execute(sql: "DELETE FROM host_label_requests WHERE host_id = ?", arguments: [host.rawValue])
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: actor.description, kind: "host.labels_changed", hostID: host.rawValue, region: previous["region"],
                    details: json([
                        "from": previous.description, "to": next.description, "reason": reason,
                        "decision": { if case .approve = decision { "approved the agent's request" } else { "set by an operator" } }(),
                    ])))
            return (previous, next)
        }
    }

    /// Pending (not rejected) label requests, by host id.
    func pendingLabelRequests(_ db: Database, hostID: String?) throws -> [String: Labels] {
        var sql = "SELECT host_id, labels FROM host_label_requests WHERE rejected_at_ms IS NULL"
        var arguments: StatementArguments = []
        if let hostID {
            sql += " AND host_id = ?"
            arguments += [hostID]
        }
        var out: [String: Labels] = [:]
        for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
            out[row["host_id"]] = try JSONDecoder().decode(Labels.self, from: Data((row["labels"] as String).utf8))
        }
        return out
    }

    private func approvedLabels(_ db: Database, _ host: HostID) throws -> Labels {
        var values: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT key, value FROM host_labels WHERE host_id = ?", arguments: [host.rawValue]) {
            values[row["key"]] = row["value"]
        }
        return try Labels(validating: values)
    }

    private func labelRequest(_ db: Database, _ host: HostID, approved: Labels) throws -> LabelChange? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT labels, requested_at_ms, rejected_at_ms FROM host_label_requests WHERE host_id = ?", arguments: [host.rawValue])
        else { return nil }
        return LabelChange(
            approved: approved, requested: try JSONDecoder().decode(Labels.self, from: Data((row["labels"] as String).utf8)),
            requestedAtMs: row["requested_at_ms"], rejectedAtMs: row["rejected_at_ms"])
    }

    private func encodeLabels(_ labels: Labels) throws -> String {
        String(decoding: try JSONEncoder.sorted.encode(labels), as: UTF8.self)
    }
}
