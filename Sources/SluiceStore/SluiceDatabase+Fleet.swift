import Foundation
import GRDB
import SluiceCore

extension SluiceDatabase {
    /// Every enrolled, unrevoked host with its labels, freshness, pending counts and warnings.
    /// - Parameter staleAfterMs: silence longer than this is reported as a warning.
    public func listHosts(nowMs: Int64, staleAfterMs: Int64) throws -> [HostSummary] {
        try writer.read { db in
            let labels = try labelsByHost(db, hostID: nil)
            let requests = try pendingLabelRequests(db, hostID: nil)
            let rows = try Row.fetchAll(db, sql: Self.summarySQL + " WHERE h.revoked_at_ms IS NULL ORDER BY h.id")
            return try rows.map { try summary(row: $0, labels: labels, requests: requests, nowMs: nowMs, staleAfterMs: staleAfterMs) }
        }
    }

    /// One host with its installed packages and candidates, or `nil` if it is not enrolled.
    public func hostDetail(_ host: HostID, nowMs: Int64, staleAfterMs: Int64) throws -> HostDetail? {
        try writer.read { db in
            guard let row = try Row.fetchOne(db, sql: Self.summarySQL + " WHERE h.id = ? AND h.revoked_at_ms IS NULL", arguments: [host.rawValue]) else {
                return nil
            }
            let labels = try labelsByHost(db, hostID: host.rawValue)
            let requests = try pendingLabelRequests(db, hostID: host.rawValue)
            let summary = try summary(row: row, labels: labels, requests: requests, nowMs: nowMs, staleAfterMs: staleAfterMs)
            let installed = try Row.fetchAll(
                db, sql: "SELECT name, architecture, version, status FROM installed_packages WHERE host_id = ? ORDER BY name, architecture",
                arguments: [host.rawValue]
            ).map {
                InstalledPackage(
                    name: try PackageName(parsing: $0["name"]), architecture: try Architecture(parsing: $0["architecture"]),
                    version: try DebianVersion(parsing: $0["version"]), status: $0["status"])
            }
            var origins: [String: [PackageOrigin]] = [:]
            for o in try Row.fetchAll(
                db, sql: "SELECT * FROM candidate_origins WHERE host_id = ? ORDER BY name, architecture, position", arguments: [host.rawValue])
            {
                origins["\(o["name"] as String):\(o["architecture"] as String)", default: []].append(
                    PackageOrigin(
                        origin: o["origin"], label: o["label"], archive: o["archive"], codename: o["codename"],
                        component: o["component"], site: o["site"]))
            }
            let candidates = try Row.fetchAll(
                db, sql: "SELECT * FROM upgrade_candidates WHERE host_id = ? ORDER BY name, architecture", arguments: [host.rawValue]
            ).map { c in
                UpgradeCandidate(
                    name: try PackageName(parsing: c["name"]), architecture: try Architecture(parsing: c["architecture"]),
                    installedVersion: try (c["installed_version"] as String?).map { try DebianVersion(parsing: $0) },
                    candidateVersion: try DebianVersion(parsing: c["candidate_version"]),
                    origins: origins["\(c["name"] as String):\(c["architecture"] as String)"] ?? [])
            }
            let rebootPackages = try JSONDecoder().decode([String].self, from: Data((row["reboot_required_packages"] as String).utf8))
            return HostDetail(summary: summary, installed: installed, candidates: candidates, rebootRequiredPackages: rebootPackages)
        }
    }

    /// Pending candidate versions across the fleet, one per package and version, security first.
    public func pendingUpdates() throws -> [PendingUpdate] {
        try writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT c.name, c.candidate_version, MAX(c.is_security) AS security, COUNT(DISTINCT c.host_id) AS hosts,
                           (SELECT group_concat(DISTINCT coalesce(o.label, o.origin, '?') || '/' || coalesce(o.archive, o.codename, '?'))
                              FROM candidate_origins o
                             WHERE o.name = c.name
                               AND EXISTS (SELECT 1 FROM upgrade_candidates c2
                                            WHERE c2.host_id = o.host_id AND c2.name = o.name AND c2.architecture = o.architecture
                                              AND c2.candidate_version = c.candidate_version)) AS origins
                    FROM upgrade_candidates c JOIN hosts h ON h.id = c.host_id AND h.revoked_at_ms IS NULL
                    GROUP BY c.name, c.candidate_version
                    ORDER BY security DESC, c.name, c.candidate_version
                    """)
            return try rows.map { row in
                PendingUpdate(
                    name: try PackageName(parsing: row["name"]), version: try DebianVersion(parsing: row["candidate_version"]),
                    origins: Set(((row["origins"] as String?) ?? "").split(separator: ",").map(String.init)).sorted(),
                    isSecurity: row["security"], hosts: row["hosts"])
            }
        }
    }

    static let summarySQL = """
        SELECT h.*,
               (SELECT count(*) FROM upgrade_candidates c WHERE c.host_id = h.id) AS pending,
               (SELECT count(*) FROM upgrade_candidates c WHERE c.host_id = h.id AND c.is_security = 1) AS pending_security
        FROM hosts h
        """

    private func labelsByHost(_ db: Database, hostID: String?) throws -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        let rows =
            if let hostID {
                try Row.fetchAll(db, sql: "SELECT host_id, key, value FROM host_labels WHERE host_id = ?", arguments: [hostID])
            } else {
                try Row.fetchAll(db, sql: "SELECT host_id, key, value FROM host_labels")
            }
        for row in rows { out[row["host_id"], default: [:]][row["key"]] = row["value"] }
        return out
    }

    private func summary(
        row: Row, labels: [String: [String: String]], requests: [String: Labels], nowMs: Int64, staleAfterMs: Int64
    ) throws -> HostSummary {
        let id: String = row["id"]
        let hostLabels = try Labels(validating: labels[id] ?? [:])
        let os: OSRelease? = (row["os_id"] as String?).map {
            OSRelease(id: $0, versionID: row["os_version_id"], versionCodename: row["os_codename"], prettyName: row["os_pretty_name"] ?? $0)
        }
        let uu: UnattendedUpgradesStatus? = (row["unattended_upgrades_detail"] as String?).map {
            UnattendedUpgradesStatus(enabled: row["unattended_upgrades_enabled"], detail: $0)
        }
        let lastSeen: Int64? = row["last_seen_at_ms"]
        let reboot: Bool = row["reboot_required"]
        var warnings = HostSummary.warnings(
            lastSeenAtMs: lastSeen, nowMs: nowMs, staleAfterMs: staleAfterMs, labels: hostLabels, unattendedUpgrades: uu, rebootRequired: reboot)
        if let requested = requests[id] {
            warnings.append("the agent asks for labels \(requested.description.isEmpty ? "(none)" : requested.description): an operator must approve or reject it")
        }
        return HostSummary(
            id: try HostID(parsing: id), labels: hostLabels, enrolledAtMs: row["enrolled_at_ms"], lastSeenAtMs: lastSeen,
            agentVersion: row["agent_version"], os: os, pendingUpdates: row["pending"], pendingSecurityUpdates: row["pending_security"],
            rebootRequired: reboot, unattendedUpgrades: uu, warnings: warnings, pendingLabels: requests[id])
    }
}
