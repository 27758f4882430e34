import Crypto
import Foundation
import GRDB
import SluiceCore

/// What recording an agent's report did.
public struct InventoryRecorded: Sendable, Equatable {
    /// Whether the inventory differed from the last one.
    public var changed: Bool
    /// Set when the agent reports labels other than its host's approved ones.
    public var labelChange: LabelChange?
}

extension SluiceDatabase {
    /// Enrolls a new host with a bootstrap token and returns its own secret, shown once.
    ///
    /// One transaction: the token's use is counted, the host, its labels and its credential
    /// are created, and the enrollment is audited. A host id that is already enrolled is
    /// refused: taking over an existing identity must go through an operator.
    /// - Parameter clientCertificate: for mutual TLS, the fingerprint (SHA-256, hex) of the
    ///   client certificate signed for the host, recorded in the `host.enrolled` event.
    public func enroll(
        host: HostID, labels: Labels, enrollmentKeyID: String, nowMs: Int64, clientCertificate: String? = nil
    ) throws -> IssuedToken {
        let token = CredentialToken.generate(kind: .host)
        try writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT name, uses_left, labels, expires_at_ms, revoked_at_ms FROM credentials WHERE key_id = ? AND kind = 'enrollment'",
                    arguments: [enrollmentKeyID])
            else { throw StoreError.unauthenticated("unknown enrollment token \(enrollmentKeyID)") }
            guard (row["revoked_at_ms"] as Int64?) == nil else {
                throw StoreError.unauthenticated("enrollment token \(enrollmentKeyID) has been revoked")
            }
            guard let expires: Int64 = row["expires_at_ms"], expires > nowMs else {
                throw StoreError.unauthenticated("enrollment token \(enrollmentKeyID) expired")
            }
            guard let uses: Int = row["uses_left"], uses > 0 else {
                throw StoreError.unauthenticated("enrollment token \(enrollmentKeyID) has been used up")
            }
            if let bound: String = row["labels"] {
                let required = try JSONDecoder().decode(Labels.self, from: Data(bound.utf8))
                for (key, value) in required where labels[key] != value {
                    throw StoreError.forbidden(
                        "enrollment token \(enrollmentKeyID) only enrolls hosts with \(key)=\(value), not \(key)=\(labels[key] ?? "(none)")")
                }
            }
            if let existing = try Row.fetchOne(db, sql: "SELECT revoked_at_ms FROM hosts WHERE id = ?", arguments: [host.rawValue]) {
                if let revokedAt: Int64 = existing["revoked_at_ms"] {
                    throw StoreError.conflict(
                        "host \(host) was revoked at \(AuditTime.rfc3339(revokedAt)); a revoked host id never enrolls again: enroll the machine under a new host id")
                }
                throw StoreError.conflict("host \(host) is already enrolled; enrolling it again would take over its identity (revoke it and use a new host id)")
            }
            try db.execute(sql: "UPDATE credentials SET uses_left = uses_left - 1 WHERE key_id = ?", arguments: [enrollmentKeyID])
            try db.execute(sql: "INSERT INTO hosts (id, enrolled_at_ms) VALUES (?, ?)", arguments: [host.rawValue, nowMs])
            for (key, value) in labels {
                try db.execute(
                    sql: "INSERT INTO host_labels (host_id, key, value) VALUES (?, ?, ?)", arguments: [host.rawValue, key, value])
            }
            try db.execute(
                sql: """
                    INSERT INTO credentials (key_id, kind, secret_hash, name, host_id, created_at_ms, created_by)
                    VALUES (?, 'host', ?, ?, ?, ?, ?)
                    """,
                // A host id may be 253 characters, a credential's name at most 128: the full id is in host_id.
                arguments: [
                    token.keyID, secretHash(token.secret), String(host.rawValue.prefix(128)), host.rawValue, nowMs, "enrollment:\(row["name"] as String)",
                ])
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: Actor.agent(host).description, kind: "host.enrolled", hostID: host.rawValue,
                    region: labels["region"],
                    details: json(
                        ["labels": labels.description, "enrollmentToken": enrollmentKeyID, "hostKeyID": token.keyID].merging(
                            clientCertificate.map { ["clientCertificateSHA256": $0] } ?? [:]) { a, _ in a })))
        }
        return IssuedToken(keyID: token.keyID, token: token.text, name: host.rawValue)
    }

    /// Records a host's report: it was seen now, and its inventory is replaced when it changed.
    ///
    /// A report identical to the last one only moves `last_seen`; a changed one replaces the
    /// package tables and writes one `inventory.changed` audit event with what changed.
    /// - Returns: whether the inventory changed.
    @discardableResult
    public func recordInventory(host: HostID, report: InventoryReport, nowMs: Int64) throws -> Bool {
        try recordReport(host: host, report: report, nowMs: nowMs).changed
    }

    /// `recordInventory`, and the labels the agent reports: they are never applied, but a
    /// difference from the host's approved labels becomes a request for an operator
    /// (`host.labels_requested`), in the same transaction.
    public func recordReport(host: HostID, report: InventoryReport, nowMs: Int64) throws -> InventoryRecorded {
        var packages = report
        packages.labels = nil
        let digest = SHA256.hash(data: try JSONEncoder.sorted.encode(packages)).map { String(format: "%02x", $0) }.joined()
        return try writer.write { db in
            guard let stored = try String?.fetchOne(db, sql: "SELECT inventory_digest FROM hosts WHERE id = ?", arguments: [host.rawValue])
            else { throw StoreError.notFound("host \(host) is not enrolled") }
            let labelChange = try recordReportedLabels(db, host: host, reported: report.labels, nowMs: nowMs)
            if stored == digest {
                try db.execute(
                    sql: "UPDATE hosts SET last_seen_at_ms = ?, last_report_at_ms = ? WHERE id = ?",
                    arguments: [nowMs, nowMs, host.rawValue])
                return InventoryRecorded(changed: false, labelChange: labelChange)
            }
            let before = try Set(
                Row.fetchAll(db, sql: "SELECT name, architecture, candidate_version FROM upgrade_candidates WHERE host_id = ?", arguments: [host.rawValue])
                    .map { "\($0["name"] as String):\($0["architecture"] as String)=\($0["candidate_version"] as String)" })
            try replaceInventory(db, host: host, report: report, digest: digest, nowMs: nowMs)
            let after = Set(report.candidates.map { "\($0.name):\($0.architecture)=\($0.candidateVersion)" })
            let added = after.subtracting(before).sorted(), removed = before.subtracting(after).sorted()
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: Actor.agent(host).description, kind: "inventory.changed", hostID: host.rawValue,
                    region: try String.fetchOne(db, sql: "SELECT value FROM host_labels WHERE host_id = ? AND key = 'region'", arguments: [host.rawValue]),
                    details: try inventoryChangeDetails(report: report, added: added, removed: removed)))
            return InventoryRecorded(changed: true, labelChange: labelChange)
        }
    }

    private func replaceInventory(_ db: Database, host: HostID, report: InventoryReport, digest: String, nowMs: Int64) throws {
        let id = host.rawValue
        try db.execute(
            sql: """
                UPDATE hosts SET last_seen_at_ms = ?, last_report_at_ms = ?, inventory_digest = ?, os_id = ?, os_version_id = ?,
                    os_codename = ?, os_pretty_name = ?, agent_version = ?, reboot_required = ?, reboot_required_packages = ?,
                    unattended_upgrades_enabled = ?, unattended_upgrades_detail = ?
                WHERE id = ?
                """,
            arguments: [
                nowMs, nowMs, digest, report.os.id, report.os.versionID, report.os.versionCodename, report.os.prettyName,
                report.agentVersion, report.rebootRequired,
                String(decoding: try JSONEncoder.sorted.encode(report.rebootRequiredPackages), as: UTF8.self),
                report.unattendedUpgrades.enabled, report.unattendedUpgrades.detail, id,
            ])
        try db.execute(sql: "DELETE FROM installed_packages WHERE host_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM upgrade_candidates WHERE host_id = ?", arguments: [id])
        let installed = try db.cachedStatement(
            sql: "INSERT INTO installed_packages (host_id, name, architecture, version, status) VALUES (?, ?, ?, ?, ?)")
        for package in report.installed {
            try installed.execute(arguments: [id, package.name.description, package.architecture.description, package.version.description, package.status])
        }
        let candidate = try db.cachedStatement(
            sql: """
                INSERT INTO upgrade_candidates (host_id, name, architecture, installed_version, candidate_version, is_security)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
        let origin = try db.cachedStatement(
            sql: """
                INSERT INTO candidate_origins (host_id, name, architecture, position, origin, label, archive, codename, component, site)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for c in report.candidates {
            let name = c.name.description, arch = c.architecture.description
            try candidate.execute(arguments: [id, name, arch, c.installedVersion?.description, c.candidateVersion.description, c.isSecurity])
            for (position, o) in c.origins.enumerated() {
                try origin.execute(arguments: [id, name, arch, position, o.origin, o.label, o.archive, o.codename, o.component, o.site])
            }
        }
    }

    private func inventoryChangeDetails(report: InventoryReport, added: [String], removed: [String]) throws -> String {
        struct Details: Encodable {
            var installed: Int, candidates: Int, security: Int
            var candidatesAdded: [String], candidatesRemoved: [String], truncated: Bool
        }
        let limit = 200
        let details = Details(
            installed: report.installed.count, candidates: report.candidates.count,
            security: report.candidates.filter(\.isSecurity).count,
            candidatesAdded: Array(added.prefix(limit)), candidatesRemoved: Array(removed.prefix(limit)),
            truncated: added.count > limit || removed.count > limit)
        return String(decoding: try JSONEncoder.sorted.encode(details), as: UTF8.self)
    }
}
