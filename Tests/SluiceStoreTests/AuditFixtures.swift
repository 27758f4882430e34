import SluiceTestSupport
import Foundation
import GRDB
import SluiceCore

@testable import SluiceStore

/// Audit logs for the audit tests: varied events written through the store's append path.
enum AuditFixtures {
    static let kinds = [
        "rollout.created", "wave.started", "assignment.started", "agent.started", "agent.restarted", "agent.finished", "host.healthy",
        "host.unhealthy", "inventory.changed", "wave.approved", "rollout.paused",
    ]
    static let actors = ["controller", "operator:alice", "operator:bob", "agent:dns1.osc-fr1", "agent:web2.lab", "local:root"]
    static let hosts: [String?] = [nil, "dns1.osc-fr1", "dns2.osc-fr1", "web2.lab"]
    static let packages: [String?] = [nil, "bind9=1:9.18.28-1", "bind9-libs=1:9.18.28-1 libssl3=3.0.14-1", "openssl=3.0.14-1 bind9=2"]

    /// `count` events, one second apart from `startMs`, cycling through kinds, actors,
    /// hosts, packages and awkward text (quotes, commas, line breaks, non-ASCII, empty strings).
    static func events(_ count: Int, startMs: Int64 = 1_721_779_200_000) -> [AuditEvent] {
        (0..<count).map { i in
            let host = hosts[i % hosts.count]
            let awkward = ["plain", "with, comma", "with \"quotes\"", "two\nlines", "crème brûlée ✓", ""][i % 6]
            return AuditEvent(
                atMs: startMs + Int64(i) * 1000, actor: actors[i % actors.count], kind: kinds[i % kinds.count],
                rolloutID: i % 3 == 0 ? nil : Int64(i % 5 + 1), wave: i % 4 == 0 ? nil : ["test", "canary"][i % 2], hostID: host,
                region: host.map { $0.hasSuffix("lab") ? "lab" : "osc-fr1" }, groupKey: host.map { _ in i % 2 == 0 ? "dns-resolver@osc-fr1" : "web@lab" },
                package: packages[i % packages.count], details: "{\"detail\":\(AuditRendering.jsonString(awkward)),\"n\":\(i)}")
        }
    }

    /// A file database holding `count` fixture events.
    static func database(_ dir: TemporaryDirectory, count: Int) throws -> SluiceDatabase {
        let database = try SluiceDatabase.open(path: dir.file("audit.sqlite"), nowMs: 0)
        try database.appendAuditEvents(events(count), batch: 500)
        return database
    }

    /// Runs raw SQL behind the store's back, after dropping the append-only triggers.
    static func tamper(_ database: SluiceDatabase, _ sql: String...) throws { try tamper(database, sql) }

    static func tamper(_ database: SluiceDatabase, _ sql: [String]) throws {
        try database.writer.writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_events_are_never_updated")
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_events_are_never_deleted")
            for statement in sql { try db.execute(sql: statement) }
        }
    }
}
