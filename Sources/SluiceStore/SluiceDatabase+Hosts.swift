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

    /// Records a host's report: it was seen now, and its inventory is brought up to date when it changed.
    ///
    /// A report identical to the last one only moves `last_seen`; a changed one writes the
    /// package rows that differ (and only those) and one `inventory.changed` audit event with
    /// what changed.
    /// - Returns: whether the inventory changed.
    @discardableResult
    public func recordInventory(host: HostID, report: InventoryReport, nowMs: Int64) throws -> Bool {
        try recordReport(host: host, report: report, nowMs: nowMs).changed
    }

    /// `recordInventory`, and the labels the agent reports: they are never applied, but a
    /// difference from the host's approved labels becomes a request for an operator
    /// (`host.labels_requested`), in the same transaction.
    public func recordReport(host: HostID, report: InventoryReport, nowMs: Int64) throws -> InventoryRecorded {
        let digest = InventoryDigest.hex(of: report)
        return try writer.write { db in try recordReport(db, host: host, report: report, digest: digest, nowMs: nowMs) }
    }

    /// `recordReport(host:report:nowMs:)` in a transaction shared with the other agents'
    /// writes that arrive meanwhile (see `GroupCommit`): what the inventory route calls.
    ///
    /// What a changed report must write is worked out first, from a snapshot read beside the
    /// writer (reading the host's stored packages and comparing them with the report is most
    /// of a large report's cost); the shared transaction then only writes the rows that
    /// differ, when the host's stored inventory is still the one the snapshot read. Other
    /// agents' heartbeats batched with it do not wait for the comparison.
    public func commitReport(host: HostID, report: InventoryReport, nowMs: Int64) async throws -> InventoryRecorded {
        let digest = InventoryDigest.hex(of: report)
        // A synchronous read, like every other read of the routes: GRDB's asynchronous one holds
        // its reader while it waits for a Dispatch thread, and 40 agents reporting at once then
        // left the synchronous reads of other requests waiting for a reader on every thread.
        let plan = try plannedFromSnapshot(host: host, report: report, digest: digest)
        return try await committer.perform { db in
            var recorded = InventoryRecorded(changed: false, labelChange: nil)
            // Many rows: in a savepoint, so that a report that fails leaves nothing behind.
            try db.inSavepoint {
                recorded = try recordReport(db, host: host, report: report, digest: digest, nowMs: nowMs, planned: plan)
                return .commit
            }
            return recorded
        }
    }

    private func plannedFromSnapshot(host: HostID, report: InventoryReport, digest: String) throws -> InventoryPlan {
        try writer.read { db in try planInventory(db, host: host, report: report, digest: digest) }
    }

    /// An agent's word that its inventory is still the one the controller holds, by its
    /// `InventoryDigest`, instead of the report itself: when the digest matches the stored
    /// one, exactly what an unchanged report does (seen now, its labels compared), in a
    /// transaction shared with the other agents' writes (see `GroupCommit`).
    /// - Parameter labels: the labels the agent is configured with, as a report carries them.
    /// - Returns: `nil`, having written nothing, when the controller holds another inventory
    ///   for the host or none yet: the agent must send the full report.
    /// - Throws: `StoreError.notFound` for a host that is not enrolled.
    public func commitConfirmation(host: HostID, digest: String, labels: Labels?, nowMs: Int64) async throws -> InventoryRecorded? {
        try await committer.perform { db in
            guard try storedDigest(db, host: host) == digest else { return nil }
            var recorded: InventoryRecorded?
            // A label request writes several rows: in a savepoint, like a report.
            try db.inSavepoint {
                recorded = try recordUnchangedReport(db, host: host, labels: labels, nowMs: nowMs)
                return .commit
            }
            return recorded
        }
    }

    /// The host's inventory digest; `nil` before its first report.
    private func storedDigest(_ db: Database, host: HostID) throws -> String? {
        guard let stored = try String?.fetchOne(db, sql: "SELECT inventory_digest FROM hosts WHERE id = ?", arguments: [host.rawValue])
        else { throw StoreError.notFound("host \(host) is not enrolled") }
        return stored
    }

    /// What a report whose inventory the controller already holds changes: the host was
    /// seen and reported now, and its reported labels are compared with the approved ones.
    private func recordUnchangedReport(_ db: Database, host: HostID, labels: Labels?, nowMs: Int64) throws -> InventoryRecorded {
        let labelChange = try recordReportedLabels(db, host: host, reported: labels, nowMs: nowMs)
        try db.execute(
            sql: "UPDATE hosts SET last_seen_at_ms = ?, last_report_at_ms = ? WHERE id = ?",
            arguments: [nowMs, nowMs, host.rawValue])
        return InventoryRecorded(changed: false, labelChange: labelChange)
    }

    /// - Parameter planned: the rows to write, worked out from a snapshot; used when the
    ///   host's stored digest is still the one it read, worked out again here otherwise.
    private func recordReport(
        _ db: Database, host: HostID, report: InventoryReport, digest: String, nowMs: Int64, planned: InventoryPlan? = nil
    ) throws -> InventoryRecorded {
        let stored = try storedDigest(db, host: host)
        if stored == digest {
            return try recordUnchangedReport(db, host: host, labels: report.labels, nowMs: nowMs)
        }
        let labelChange = try recordReportedLabels(db, host: host, reported: report.labels, nowMs: nowMs)
        // A digest stored by an earlier version (a hash of the report's JSON) never equals
        // this one: that host's next report takes this path once, finds no row to write
        // when nothing changed, stores the new digest, and is audited like any change.
        let plan = try planned.flatMap { $0.storedDigest == stored ? $0 : nil } ?? planInventory(db, host: host, report: report, digest: digest)
        let before = try updateInventory(db, host: host, report: report, digest: digest, nowMs: nowMs, plan: plan)
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

    /// Updates the host row and writes the package rows `plan` found different from the report.
    /// - Returns: the candidates stored before, as `name:architecture=candidateVersion`.
    private func updateInventory(
        _ db: Database, host: HostID, report: InventoryReport, digest: String, nowMs: Int64, plan: InventoryPlan
    ) throws -> Set<String> {
        let id = host.rawValue
        try db.cachedStatement(
            sql: """
                UPDATE hosts SET last_seen_at_ms = ?, last_report_at_ms = ?, inventory_digest = ?, os_id = ?, os_version_id = ?,
                    os_codename = ?, os_pretty_name = ?, agent_version = ?, reboot_required = ?, reboot_required_packages = ?,
                    unattended_upgrades_enabled = ?, unattended_upgrades_detail = ?
                WHERE id = ?
                """
        ).execute(arguments: [
            nowMs, nowMs, digest, report.os.id, report.os.versionID, report.os.versionCodename, report.os.prettyName,
            report.agentVersion, report.rebootRequired,
            String(decoding: try JSONEncoder.sorted.encode(report.rebootRequiredPackages), as: UTF8.self),
            report.unattendedUpgrades.enabled, report.unattendedUpgrades.detail, id,
        ])
        for write in plan.writes {
            try db.cachedStatement(sql: write.sql).execute(arguments: write.arguments)
        }
        return plan.candidatesBefore
    }

    /// Reads the host's stored packages and works out the rows that differ from the report:
    /// agents report when something changed, usually a few rows out of hundreds.
    ///
    /// A package listed twice in the report is inserted twice and refused by the primary
    /// key, as when the tables were rewritten whole (`InventoryReport.validate()` refuses
    /// it before that).
    private func planInventory(_ db: Database, host: HostID, report: InventoryReport, digest: String) throws -> InventoryPlan {
        var plan = InventoryPlan(storedDigest: try storedDigest(db, host: host))
        guard plan.storedDigest != digest else { return plan }
        try planInstalled(db, host: host.rawValue, installed: report.installed, into: &plan)
        try planCandidates(db, host: host.rawValue, candidates: report.candidates, into: &plan)
        return plan
    }

    private func planInstalled(_ db: Database, host id: String, installed: [InstalledPackage], into plan: inout InventoryPlan) throws {
        var stored: [PackageRowKey: (version: String, status: String)] = [:]
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT name, architecture, version, status FROM installed_packages WHERE host_id = ?"), arguments: [id])
        while let row = try rows.next() {
            stored[PackageRowKey(name: row[0], architecture: row[1])] = (row[2], row[3])
        }
        let insert = "INSERT INTO installed_packages (host_id, name, architecture, version, status) VALUES (?, ?, ?, ?, ?)"
        let update = "UPDATE installed_packages SET version = ?, status = ? WHERE host_id = ? AND name = ? AND architecture = ?"
        for package in installed {
            let key = PackageRowKey(name: package.name.rawValue, architecture: package.architecture.rawValue)
            let version = package.version.description
            if let old = stored.removeValue(forKey: key) {
                if old.version != version || old.status != package.status {
                    plan.add(update, [version, package.status, id, key.name, key.architecture])
                }
            } else {
                plan.add(insert, [id, key.name, key.architecture, version, package.status])
            }
        }
        let delete = "DELETE FROM installed_packages WHERE host_id = ? AND name = ? AND architecture = ?"
        for key in stored.keys {
            plan.add(delete, [id, key.name, key.architecture])
        }
    }

    /// Also records the candidates stored before, in `plan.candidatesBefore`.
    private func planCandidates(_ db: Database, host id: String, candidates: [UpgradeCandidate], into plan: inout InventoryPlan) throws {
        struct StoredCandidate {
            var installedVersion: String?, candidateVersion: String, isSecurity: Bool
            var origins: [Int: PackageOrigin] = [:]
        }
        var stored: [PackageRowKey: StoredCandidate] = [:]
        var before = Set<String>()
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: "SELECT name, architecture, installed_version, candidate_version, is_security FROM upgrade_candidates WHERE host_id = ?"),
            arguments: [id])
        while let row = try rows.next() {
            let key = PackageRowKey(name: row[0], architecture: row[1])
            let candidate = StoredCandidate(installedVersion: row[2], candidateVersion: row[3], isSecurity: row[4])
            before.insert("\(key.name):\(key.architecture)=\(candidate.candidateVersion)")
            stored[key] = candidate
        }
        let originRows = try Row.fetchCursor(
            db.cachedStatement(
                sql: "SELECT name, architecture, position, origin, label, archive, codename, component, site FROM candidate_origins WHERE host_id = ?"),
            arguments: [id])
        while let row = try originRows.next() {
            // The foreign key guarantees the candidate row exists.
            stored[PackageRowKey(name: row[0], architecture: row[1])]?.origins[row[2]] = PackageOrigin(
                origin: row[3], label: row[4], archive: row[5], codename: row[6], component: row[7], site: row[8])
        }

        let insert = """
            INSERT INTO upgrade_candidates (host_id, name, architecture, installed_version, candidate_version, is_security)
            VALUES (?, ?, ?, ?, ?, ?)
            """
        let update = """
            UPDATE upgrade_candidates SET installed_version = ?, candidate_version = ?, is_security = ?
            WHERE host_id = ? AND name = ? AND architecture = ?
            """
        let insertOrigin = """
            INSERT INTO candidate_origins (host_id, name, architecture, position, origin, label, archive, codename, component, site)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        let updateOrigin = """
            UPDATE candidate_origins SET origin = ?, label = ?, archive = ?, codename = ?, component = ?, site = ?
            WHERE host_id = ? AND name = ? AND architecture = ? AND position = ?
            """
        let deleteOrigin = "DELETE FROM candidate_origins WHERE host_id = ? AND name = ? AND architecture = ? AND position = ?"
        for c in candidates {
            let key = PackageRowKey(name: c.name.rawValue, architecture: c.architecture.rawValue)
            let installedVersion = c.installedVersion?.description, candidateVersion = c.candidateVersion.description
            let isSecurity = c.isSecurity
            guard var old = stored.removeValue(forKey: key) else {
                // A new candidate: its row first, the origins' foreign key points to it.
                plan.add(insert, [id, key.name, key.architecture, installedVersion, candidateVersion, isSecurity])
                for (position, o) in c.origins.enumerated() {
                    plan.add(insertOrigin, [id, key.name, key.architecture, position, o.origin, o.label, o.archive, o.codename, o.component, o.site])
                }
                continue
            }
            if old.installedVersion != installedVersion || old.candidateVersion != candidateVersion || old.isSecurity != isSecurity {
                plan.add(update, [installedVersion, candidateVersion, isSecurity, id, key.name, key.architecture])
            }
            for (position, o) in c.origins.enumerated() {
                let storedOrigin = old.origins.removeValue(forKey: position)
                if storedOrigin == nil {
                    plan.add(insertOrigin, [id, key.name, key.architecture, position, o.origin, o.label, o.archive, o.codename, o.component, o.site])
                } else if storedOrigin != o {
                    plan.add(updateOrigin, [o.origin, o.label, o.archive, o.codename, o.component, o.site, id, key.name, key.architecture, position])
                }
            }
            for position in old.origins.keys {
                plan.add(deleteOrigin, [id, key.name, key.architecture, position])
            }
        }
        // Gone candidates: their origins first, explicitly, rather than trusting that the
        // connection enforces the cascade.
        let deleteOrigins = "DELETE FROM candidate_origins WHERE host_id = ? AND name = ? AND architecture = ?"
        let delete = "DELETE FROM upgrade_candidates WHERE host_id = ? AND name = ? AND architecture = ?"
        for key in stored.keys {
            plan.add(deleteOrigins, [id, key.name, key.architecture])
            plan.add(delete, [id, key.name, key.architecture])
        }
        plan.candidatesBefore = before
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

/// The rows a changed report writes, worked out from what the host had stored under
/// `storedDigest` (see `SluiceDatabase.commitReport`).
struct InventoryPlan: Sendable {
    var storedDigest: String?
    var writes: [(sql: String, arguments: StatementArguments)] = []
    /// The candidates stored before, as `name:architecture=candidateVersion`.
    var candidatesBefore: Set<String> = []

    mutating func add(_ sql: String, _ arguments: StatementArguments) {
        writes.append((sql, arguments))
    }
}

/// A package row's key within one host: `(name, architecture)`.
private struct PackageRowKey: Hashable {
    var name: String
    var architecture: String
}
