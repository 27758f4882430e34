import Foundation
import GRDB
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceStore

/// A changed report writes only the package rows that differ, and leaves the tables exactly
/// as recording that report alone into an empty database would.
@Suite("Inventory: only changed rows are written")
struct InventoryDiffTests {
    let database = try! SluiceDatabase.inMemory()

    @Test(arguments: [1, 2, 3, 7, 2025] as [UInt64])
    func anySequenceOfReportsLeavesTheRowsOfTheLastOneWritingOnlyWhatDiffers(seed: UInt64) throws {
        let host = try enroll(database, "web1")
        let log = try RowWriteLog(database)
        var generator = InventoryGenerator(seed: seed)
        var previous: InventoryReport? = nil
        var changes = 0
        for round in 0..<40 {
            let report = generator.nextReport()
            _ = try log.take()
            let changed = try database.recordInventory(host: host, report: report, nowMs: Int64(1000 + round))

            // Then: it counts as a change exactly when the report differs,
            #expect(changed == (report != previous), "round \(round)")
            // only rows whose content differs were inserted, updated or deleted,
            let expected = InventoryRows(previous ?? InventoryReport.empty).writes(to: InventoryRows(report))
            #expect(try log.take() == expected, "round \(round)")
            // and the tables hold what a fresh database holds after this report alone.
            let fresh = try SluiceDatabase.inMemory()
            let freshHost = try enroll(fresh, "web1")
            try fresh.recordInventory(host: freshHost, report: report, nowMs: 1)
            for table in InventoryRows.tables {
                #expect(try rows(table, in: database) == rows(table, in: fresh), "round \(round): \(table)")
            }
            #expect(try hostColumns(database) == hostColumns(fresh), "round \(round)")
            if changed {
                changes += 1
                let details = try auditDetails(database, host)
                #expect(details == InventoryChangeDetails(before: previous, after: report), "round \(round)")
            }
            previous = report
        }
        #expect(changes > 20, "the generator should mostly change the inventory")
        #expect(changes < 40, "the generator should sometimes repeat a report")
    }

    @Test func anUnchangedReportWritesNoPackageRow() throws {
        let host = try enroll(database, "web1")
        let report = InventoryGenerator.report(seed: 9, installed: 500)
        try database.recordInventory(host: host, report: report, nowMs: 1000)
        let log = try RowWriteLog(database)

        let changed = try database.recordInventory(host: host, report: report, nowMs: 2000)

        #expect(changed == false)
        #expect(try log.take().isEmpty)
        #expect(try database.hostDetail(host, nowMs: 2000, staleAfterMs: 1)?.summary.lastSeenAtMs == 2000)
    }

    @Test func aReportChangingOnePackageTouchesOnlyThatRow() throws {
        let host = try enroll(database, "web1")
        var report = InventoryGenerator.report(seed: 9, installed: 500)
        try database.recordInventory(host: host, report: report, nowMs: 1000)
        let log = try RowWriteLog(database)
        let events = try database.auditEvents(hostID: host).count

        report.installed[123].version = try DebianVersion(parsing: "9.9-1")
        #expect(try database.recordInventory(host: host, report: report, nowMs: 2000))

        let name = report.installed[123].key
        #expect(try log.take() == ["installed_packages update \(name)"])
        #expect(try database.auditEvents(hostID: host).count == events + 1)
        #expect(try database.hostDetail(host, nowMs: 2000, staleAfterMs: 60_000)?.installed == report.installed.sorted { $0.key < $1.key })
    }

    @Test func aCandidateThatComesAndGoesIsWrittenWithItsOriginsAlone() throws {
        let host = try enroll(database, "web1")
        let report = InventoryGenerator.report(seed: 4, installed: 200)
        try database.recordInventory(host: host, report: report, nowMs: 1000)
        let log = try RowWriteLog(database)
        var more = report
        more.candidates.append(
            UpgradeCandidate(
                name: try PackageName(parsing: "openssl"), architecture: try Architecture(parsing: "arm64"), installedVersion: nil,
                candidateVersion: try DebianVersion(parsing: "3.0.17-1~deb12u2"),
                origins: [PackageOrigin(label: "Debian-Security", archive: "stable-security"), PackageOrigin(label: "Debian", site: "mirror")]))

        try database.recordInventory(host: host, report: more, nowMs: 2000)
        #expect(
            try log.take() == [
                "upgrade_candidates insert openssl:arm64", "candidate_origins insert openssl:arm64#0", "candidate_origins insert openssl:arm64#1",
            ])
        try database.recordInventory(host: host, report: report, nowMs: 3000)
        #expect(
            try log.take() == [
                "upgrade_candidates delete openssl:arm64", "candidate_origins delete openssl:arm64#0", "candidate_origins delete openssl:arm64#1",
            ])
        #expect(try database.hostDetail(host, nowMs: 3000, staleAfterMs: 60_000)?.candidates == report.candidates.sorted { $0.key < $1.key })
    }

    /// Earlier versions stored a SHA-256 of the report's JSON: it never matches the new
    /// digest, so a host's first report after an upgrade is compared in full once.
    @Test func aDigestStoredByAnEarlierVersionCostsOneFullComparisonAndRecordsCorrectly() throws {
        let host = try enroll(database, "web1")
        let report = InventoryGenerator.report(seed: 5, installed: 300)
        try database.recordInventory(host: host, report: report, nowMs: 1000)
        // Stands for the SHA-256 of the report's JSON that the earlier version stored: 64 other hex digits.
        let legacy = "3f1c0a0e5d4b2a99c0ffee00d15ea5e0b1e55ed5eedbadc0ffee0123456789ab"
        try database.writer.write { try $0.execute(sql: "UPDATE hosts SET inventory_digest = ?", arguments: [legacy]) }
        let log = try RowWriteLog(database)

        #expect(try database.recordInventory(host: host, report: report, nowMs: 2000))
        #expect(try log.take().isEmpty)
        let details = try auditDetails(database, host)
        #expect(details == InventoryChangeDetails(before: report, after: report))
        #expect(details.candidatesAdded.isEmpty && details.candidatesRemoved.isEmpty)
        #expect(try database.hostDetail(host, nowMs: 2000, staleAfterMs: 60_000)?.candidates == report.candidates.sorted { $0.key < $1.key })

        #expect(try database.recordInventory(host: host, report: report, nowMs: 3000) == false)
    }

    @Test func aPackageListedTwiceIsRefusedAndNothingIsWritten() throws {
        let host = try enroll(database, "web1")
        let report = InventoryGenerator.report(seed: 6, installed: 50)
        try database.recordInventory(host: host, report: report, nowMs: 1000)
        let before = try rows("installed_packages", in: database)
        var twice = report
        twice.installed[3].version = try DebianVersion(parsing: "7.0-1")
        twice.installed.append(twice.installed[10])

        #expect(throws: DatabaseError.self) { try database.recordInventory(host: host, report: twice, nowMs: 2000) }
        #expect(try rows("installed_packages", in: database) == before)
    }

    @Test func theDigestSeparatesFieldsAndIgnoresLabels() throws {
        let report = InventoryGenerator.report(seed: 8, installed: 20)
        let digest = InventoryDigest.hex(of: report)
        #expect(digest.count == 64 && digest.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(InventoryDigest.hex(of: report) == digest)
        var labelled = report
        labelled.labels = try Labels(validating: ["role": "web"])
        #expect(InventoryDigest.hex(of: labelled) == digest)

        var shifted = report  // one character moved across a field boundary
        shifted.agentVersion += "d"
        shifted.os.id = String(report.os.id.dropFirst())
        #expect(report.agentVersion + report.os.id == shifted.agentVersion + shifted.os.id)
        var empty = report  // an empty text is not an absent one
        empty.os.versionCodename = ""
        var absent = report
        absent.os.versionCodename = nil
        var origin = report  // an origin's field moved to the next one
        origin.candidates[0].origins = [PackageOrigin(origin: "Debian")]
        var next = report
        next.candidates[0].origins = [PackageOrigin(label: "Debian")]
        var unknown = report
        unknown.unattendedUpgrades.enabled = nil
        let digests = [report, shifted, empty, absent, origin, next, unknown].map(InventoryDigest.hex(of:))
        #expect(Set(digests).count == digests.count)
    }
}

// MARK: - Helpers

private func enroll(_ database: SluiceDatabase, _ id: String) throws -> HostID {
    let token = try database.createEnrollmentToken(name: "t-\(id)", uses: 1, expiresAtMs: 1_000_000, labels: nil, actor: .local("root"), nowMs: 1)
    let host = Fixtures.host(id)
    _ = try database.enroll(host: host, labels: Fixtures.labels(["region": "osc-fr1"]), enrollmentKeyID: token.keyID, nowMs: 2)
    return host
}

private func rows(_ table: String, in database: SluiceDatabase) throws -> [Row] {
    try database.writer.read { try Row.fetchAll($0, sql: "SELECT * FROM \(table) ORDER BY host_id, name, architecture\(table == "candidate_origins" ? ", position" : "")") }
}

private func hostColumns(_ database: SluiceDatabase) throws -> [Row] {
    try database.writer.read {
        try Row.fetchAll(
            $0,
            sql: """
                SELECT id, inventory_digest, os_id, os_version_id, os_codename, os_pretty_name, agent_version, reboot_required,
                    reboot_required_packages, unattended_upgrades_enabled, unattended_upgrades_detail FROM hosts
                """)
    }
}

private func auditDetails(_ database: SluiceDatabase, _ host: HostID) throws -> InventoryChangeDetails {
    let event = try #require(try database.auditEvents(hostID: host).last)
    #expect(event.kind == "inventory.changed")
    return try JSONDecoder().decode(InventoryChangeDetails.self, from: Data(event.details.utf8))
}

/// The `inventory.changed` details, computed here from the reports rather than the tables.
private struct InventoryChangeDetails: Decodable, Equatable {
    var installed: Int, candidates: Int, security: Int
    var candidatesAdded: [String], candidatesRemoved: [String], truncated: Bool

    init(before: InventoryReport?, after: InventoryReport) {
        func versions(_ report: InventoryReport?) -> Set<String> {
            Set((report?.candidates ?? []).map { "\($0.name):\($0.architecture)=\($0.candidateVersion)" })
        }
        installed = after.installed.count
        candidates = after.candidates.count
        security = after.candidates.filter(\.isSecurity).count
        candidatesAdded = versions(after).subtracting(versions(before)).sorted()
        candidatesRemoved = versions(before).subtracting(versions(after)).sorted()
        truncated = false
    }
}

/// Every INSERT, UPDATE and DELETE on the package tables, as `table op name:arch[#position]`,
/// recorded by temporary triggers on the test's own connection.
private struct RowWriteLog {
    let database: SluiceDatabase

    init(_ database: SluiceDatabase) throws {
        self.database = database
        try database.writer.write { db in
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS row_writes (entry TEXT NOT NULL)")
            for table in InventoryRows.tables {
                let position = table == "candidate_origins" ? " || '#' || ROW.position" : ""
                for (op, row) in [("insert", "NEW"), ("update", "NEW"), ("delete", "OLD")] {
                    let entry = "'\(table) \(op) ' || ROW.name || ':' || ROW.architecture\(position)".replacingOccurrences(of: "ROW", with: row)
                    try db.execute(
                        sql: """
                            CREATE TEMP TRIGGER IF NOT EXISTS log_\(table)_\(op) AFTER \(op.uppercased()) ON main.\(table)
                            BEGIN INSERT INTO row_writes (entry) VALUES (\(entry)); END
                            """)
                }
            }
        }
    }

    /// The writes since the last call; clears the log.
    func take() throws -> Set<String> {
        try database.writer.write { db in
            defer { try? db.execute(sql: "DELETE FROM row_writes") }
            return Set(try String.fetchAll(db, sql: "SELECT entry FROM row_writes"))
        }
    }
}

/// A report as the rows it should be stored as, keyed like the tables' primary keys.
private struct InventoryRows {
    static let tables = ["installed_packages", "upgrade_candidates", "candidate_origins"]
    var byTable: [String: [String: String]] = [:]

    init(_ report: InventoryReport) {
        for p in report.installed {
            byTable["installed_packages", default: [:]]["\(p.key)"] = "\(p.version) \(p.status)"
        }
        for c in report.candidates {
            byTable["upgrade_candidates", default: [:]]["\(c.key)"] = "\(c.installedVersion?.description ?? "-") \(c.candidateVersion) \(c.isSecurity)"
            for (position, o) in c.origins.enumerated() {
                byTable["candidate_origins", default: [:]]["\(c.key)#\(position)"] = "\(o)"
            }
        }
    }

    /// The row writes that turn `self` into `target` and nothing else.
    func writes(to target: InventoryRows) -> Set<String> {
        var writes = Set<String>()
        for table in Self.tables {
            let old = byTable[table] ?? [:], new = target.byTable[table] ?? [:]
            for (key, value) in new {
                switch old[key] {
                case nil: writes.insert("\(table) insert \(key)")
                case value?: break
                case _?: writes.insert("\(table) update \(key)")
                }
            }
            for key in old.keys where new[key] == nil { writes.insert("\(table) delete \(key)") }
        }
        return writes
    }
}

extension InventoryReport {
    fileprivate static let empty = InventoryReport(
        agentVersion: "", os: OSRelease(id: "", versionID: nil, versionCodename: nil, prettyName: ""), installed: [], candidates: [],
        rebootRequired: false, rebootRequiredPackages: [], unattendedUpgrades: UnattendedUpgradesStatus(enabled: nil, detail: ""))
}

/// Deterministic inventories that drift from round to round the way a host's do: packages
/// installed and removed, upgraded, candidates appearing and going, origins and security
/// flags changing, and now and then the same report again.
private struct InventoryGenerator {
    private var random: SplitMix64
    private var report: InventoryReport
    private var serial = 0
    private var first = true

    init(seed: UInt64, installed: Int = 60) {
        random = SplitMix64(seed: seed)
        report = InventoryReport(
            agentVersion: "0.1.0", os: OSRelease(id: "debian", versionID: "12", versionCodename: "bookworm", prettyName: "Debian GNU/Linux 12"),
            installed: [], candidates: [], rebootRequired: false, rebootRequiredPackages: [],
            unattendedUpgrades: UnattendedUpgradesStatus(enabled: false, detail: "not installed"))
        for _ in 0..<installed { addInstalled() }
        for _ in 0..<max(3, installed / 10) { addCandidate() }
    }

    /// The first report of a generator: `installed` attempts at a distinct package.
    static func report(seed: UInt64, installed: Int) -> InventoryReport {
        InventoryGenerator(seed: seed, installed: installed).report
    }

    mutating func nextReport() -> InventoryReport {
        if first {
            first = false
            return report
        }
        if random.next(below: 8) == 0 { return report }  // the same report again
        for _ in 0...random.next(below: 4) { mutate() }
        return report
    }

    private mutating func mutate() {
        switch random.next(below: 12) {
        case 0: addInstalled()
        case 1: if !report.installed.isEmpty { report.installed.remove(at: random.next(below: report.installed.count)) }
        case 2: if !report.installed.isEmpty { report.installed[random.next(below: report.installed.count)].version = version() }
        case 3:
            if !report.installed.isEmpty {
                report.installed[random.next(below: report.installed.count)].status = ["install ok installed", "install ok half-configured", "hold ok installed"][random.next(below: 3)]
            }
        case 4: addCandidate()
        case 5: if !report.candidates.isEmpty { report.candidates.remove(at: random.next(below: report.candidates.count)) }
        case 6: if !report.candidates.isEmpty { report.candidates[random.next(below: report.candidates.count)].candidateVersion = version() }
        case 7: if !report.candidates.isEmpty { report.candidates[random.next(below: report.candidates.count)].installedVersion = random.next(below: 3) == 0 ? nil : version() }
        case 8:  // an origin added, removed or edited
            guard !report.candidates.isEmpty else { return }
            let c = random.next(below: report.candidates.count)
            var origins = report.candidates[c].origins
            switch random.next(below: 3) {
            case 0: origins.insert(origin(), at: random.next(below: origins.count + 1))
            case 1: if !origins.isEmpty { origins.remove(at: random.next(below: origins.count)) }
            default: if !origins.isEmpty { origins[random.next(below: origins.count)].site = random.next(below: 2) == 0 ? nil : "mirror\(random.next(below: 5))" }
            }
            report.candidates[c].origins = Array(origins.prefix(PackageOrigin.maxPerCandidate))
        case 9:  // a security flag flip
            guard !report.candidates.isEmpty else { return }
            let c = random.next(below: report.candidates.count)
            if report.candidates[c].origins.isEmpty { report.candidates[c].origins = [origin()] }
            let secure = report.candidates[c].isSecurity
            report.candidates[c].origins = report.candidates[c].origins.map {
                var o = $0
                o.label = secure ? "Debian" : "Debian-Security"
                o.archive = secure ? "stable" : "stable-security"
                o.codename = secure ? "bookworm" : "bookworm-security"
                return o
            }
        case 10: report.installed.shuffle(using: &random)
        default:
            report.agentVersion = "0.\(random.next(below: 3)).0"
            report.rebootRequired.toggle()
            report.rebootRequiredPackages = report.rebootRequired ? ["linux-image-amd64"] : []
            report.unattendedUpgrades.enabled = [true, false, nil][random.next(below: 3)]
        }
    }

    private mutating func addInstalled() {
        let name = try! PackageName(parsing: "pkg-\(random.next(below: 1000))")
        let architecture = try! Architecture(parsing: ["amd64", "i386", "all"][random.next(below: 3)])
        guard !report.installed.contains(where: { $0.name == name && $0.architecture == architecture }) else { return }
        report.installed.append(InstalledPackage(name: name, architecture: architecture, version: version(), status: "install ok installed"))
    }

    private mutating func addCandidate() {
        let source = report.installed.isEmpty ? nil : report.installed[random.next(below: report.installed.count)]
        let name = source?.name ?? (try! PackageName(parsing: "new-\(random.next(below: 100))"))
        let architecture = source?.architecture ?? (try! Architecture(parsing: "amd64"))
        guard !report.candidates.contains(where: { $0.name == name && $0.architecture == architecture }) else { return }
        report.candidates.append(
            UpgradeCandidate(
                name: name, architecture: architecture, installedVersion: source?.version, candidateVersion: version(),
                origins: (0..<random.next(below: 4)).map { _ in origin() }))
    }

    private mutating func version() -> DebianVersion {
        serial += 1
        return try! DebianVersion(parsing: "\(random.next(below: 3) == 0 ? "1:" : "")\(random.next(below: 20)).\(serial)-\(random.next(below: 4) + 1)")
    }

    private mutating func origin() -> PackageOrigin {
        random.next(below: 2) == 0
            ? PackageOrigin(origin: "Debian", label: "Debian-Security", archive: "stable-security", codename: "bookworm-security", component: "main", site: "deb.debian.org")
            : PackageOrigin(origin: "Debian", label: "Debian", archive: "stable", codename: "bookworm", component: ["main", "contrib", nil][random.next(below: 3)], site: nil)
    }
}

extension SplitMix64 {
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
