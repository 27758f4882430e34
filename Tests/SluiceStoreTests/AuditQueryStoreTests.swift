import SluiceTestSupport
import Foundation
import GRDB
import SluiceCore
import Testing

@testable import SluiceStore

@Suite("Audit: queries, exports and read-only files")
struct AuditQueryStoreTests {
    static let start: Int64 = 1_721_779_200_000

    /// Every filter alone and in combination: the SQL answers exactly what `matches` says.
    static let queries: [AuditQuery] = [
        AuditQuery(), AuditQuery(sinceMs: start + 100_000), AuditQuery(untilMs: start + 50_500),
        AuditQuery(sinceMs: start + 20_000, untilMs: start + 80_000), AuditQuery(rolloutID: 2), AuditQuery(hostID: "dns1.osc-fr1"),
        AuditQuery(region: "lab"), AuditQuery(group: "web@lab"), AuditQuery(package: "bind9"), AuditQuery(package: "bind9=2"),
        AuditQuery(package: "libssl3"), AuditQuery(package: "bind"), AuditQuery(actor: "operator:*"), AuditQuery(actor: "controller"),
        AuditQuery(kind: "agent.*"), AuditQuery(kind: "host.healthy"), AuditQuery(kind: "*"),
        AuditQuery(sinceMs: start + 10_000, hostID: "dns2.osc-fr1", kind: "agent.*"),
        AuditQuery(rolloutID: 3, region: "osc-fr1", actor: "agent:*"), AuditQuery(afterSeq: 30, throughSeq: 60),
        AuditQuery(group: "web@lab", package: "openssl"),
    ]

    @Test(arguments: 0..<queries.count) func theStoreAnswersWhatTheFiltersSay(_ index: Int) throws {
        let database = try SluiceDatabase.inMemory()
        let events = AuditFixtures.events(200)
        try database.appendAuditEvents(events)
        let stored = try database.auditPage(AuditQuery(limit: 1000)).events
        var query = Self.queries[index]
        query.limit = 1000
        let expected = stored.filter(query.matches)
        #expect(try database.auditPage(query).events == expected, "\(query)")
        #expect(!expected.isEmpty || query.package == "bind", "a query that matches nothing proves little: \(query)")
        // Limits keep the first ones, or the newest with take=last, always in sequence order.
        query.limit = 5
        let first = try database.auditPage(query)
        #expect(first.events == Array(expected.prefix(5)) && first.more == (expected.count > 5))
        query.take = .last
        #expect(try database.auditPage(query).events == Array(expected.suffix(5)))
    }

    @Test func badFiltersAreRefusedNotWidened() throws {
        let database = try SluiceDatabase.inMemory()
        for query in [AuditQuery(kind: "agent*.x"), AuditQuery(hostID: "a b"), AuditQuery(limit: 0), AuditQuery(sinceMs: 5, untilMs: 5), AuditQuery(package: "bind*")] {
            #expect(throws: StoreError.self, "\(query)") { try database.auditPage(query) }
        }
        #expect(throws: InvalidInput.self) { try AuditQuery(parameters: ["hots": "dns1"]) }
    }

    @Test func anExportVerifiesOnItsOwnAndNamesTamperingInTheFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try AuditFixtures.database(dir, count: 100)
        var text = ""
        // Rows at 10 s ... 59 s: seq 11...60, anchored to row 10's hash.
        let (header, verdict) = try database.exportAudit(sinceMs: Self.start + 10_000, untilMs: Self.start + 60_000, nowMs: 1) { text += $0 }
        #expect(header.firstSeq == 11 && header.lastSeq == 60 && header.rows == 50)
        #expect(verdict.intact && verdict.rows == 50)
        let records = try database.auditPage(AuditQuery(limit: 1000)).records
        #expect(header.anchorPrevHash == records[9].hash && header.anchorHash == records[59].hash)
        let path = dir.file("export.ndjson")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try SluiceDatabase.verifyAuditExport(path: path).intact)

        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func verify(_ edited: [String]) throws -> AuditChainProblem? {
            try edited.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return try SluiceDatabase.verifyAuditExport(path: path).problem
        }
        // Line 0 is the header; row seq N is line N - 10.
        var edited = lines
        edited[20] = edited[20].replacingOccurrences(of: "\"atMs\":", with: "\"atMs\":1")
        #expect(try verify(edited).map { [$0.seq] } == [30])
        edited = lines
        edited.remove(at: 20)
        #expect(try verify(edited).map { "\($0.kind) \($0.seq)" } == "deleted 30")
        edited = lines
        edited.removeLast(2)
        #expect(try verify(edited).map { "\($0.kind) \($0.seq)" } == "deleted 60", "a truncated export")
        lines[1] = "{\"seq\": 11}"
        #expect(throws: StoreError.self) { try verify(lines) }
    }

    @Test func aCopyIsReadWithoutWritingAndNewerOrForeignFilesAreRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // An older Sluice's file: the schema before migration 0004, checkpointed and closed.
        let path = dir.file("old.sqlite")
        let old = try DatabaseQueue(path: path)
        try SchemaMigrator(migrations: Array(EmbeddedMigration.shipped.prefix(3))).apply(
            Array(EmbeddedMigration.shipped.prefix(3)), to: old, nowMs: 0)
        try old.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let reader = try SluiceDatabase.openReadOnly(path: path)
        #expect(try reader.olderSchemaNote()?.contains("without 0004_audit_queries") == true)
        #expect(try reader.verifyAudit().intact)
        #expect(throws: (any Error).self) { try reader.writer.write { try $0.execute(sql: "CREATE TABLE x (y)") } }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "the file changed")

        // A newer Sluice's file, and files that are no Sluice database at all.
        let newer = try DatabaseQueue(path: dir.file("new.sqlite"))
        try SchemaMigrator(migrations: EmbeddedMigration.shipped).apply(EmbeddedMigration.shipped, to: newer, nowMs: 0)
        try newer.write { try $0.execute(sql: "INSERT INTO sluice_schema VALUES (9999, 'future', 'x', 0)") }
        try newer.close()
        let refusal = #expect(throws: StoreError.self) { try SluiceDatabase.openReadOnly(path: dir.file("new.sqlite")) }
        #expect(refusal?.description.contains("newer") == true, "\(String(describing: refusal))")
        try Data("not a database, just text".utf8).write(to: URL(fileURLWithPath: dir.file("text.sqlite")))
        #expect(throws: StoreError.self) { try SluiceDatabase.openReadOnly(path: dir.file("text.sqlite")) }
        #expect(throws: StoreError.self) { try SluiceDatabase.openReadOnly(path: dir.file("missing.sqlite")) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("missing.sqlite")), "opening read-only created the file")
    }
}
