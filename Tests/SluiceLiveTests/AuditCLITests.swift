import Foundation
import SluiceAPI
import SluiceCore
import SluiceTestSupport
import Testing

/// `sluicectl audit` and `sluicectl postmortem` as an operator runs them: on real SQLite
/// files written by the real programs, tampered with by the real `sqlite3`.
@Suite("Live: audit verify, queries and postmortems through sluicectl")
struct AuditCLITests {
    /// Runs the `sqlite3` CLI on `db`, behind the controller's back.
    static func sqlite(_ db: String, _ sql: String) throws -> String { try SQLiteShell.run(db, sql) }

    static let dropTriggers = "DROP TRIGGER audit_events_are_never_updated; DROP TRIGGER audit_events_are_never_deleted;"
    static let columns = "at_ms, actor, kind, rollout_id, wave, host_id, region, group_key, package, details, prev_hash, hash"

    /// Each tampering and what `audit verify` must say about it.
    static let tamperings: [(String, String, String)] = [
        ("edit", "UPDATE audit_events SET details = json_set(details, '$.role', 'viewer') WHERE seq = 3;", "at seq 3: row 3 was edited"),
        ("delete", "DELETE FROM audit_events WHERE seq = 4;", "at seq 4: row 4 is missing (deleted)"),
        ("delete the newest", "DELETE FROM audit_events WHERE seq = 7;", "at seq 7: row 7, the newest, is missing (deleted)"),
        (
            "insert",
            "UPDATE audit_events SET seq = seq + 100 WHERE seq >= 4; UPDATE audit_events SET seq = seq - 99 WHERE seq >= 104; "
                + "INSERT INTO audit_events (seq, \(columns)) SELECT 4, at_ms, 'operator:mallory', 'token.created', rollout_id, wave, host_id, region, group_key, package, '{\"name\":\"mallory\",\"role\":\"admin\"}', prev_hash, hash FROM audit_events WHERE seq = 5;",
            "at seq 4: row 4 was inserted"
        ),
        (
            "reorder",
            "UPDATE audit_events SET seq = -4 WHERE seq = 4; UPDATE audit_events SET seq = 4 WHERE seq = 5; UPDATE audit_events SET seq = 5 WHERE seq = -4;",
            "at seq 4: rows were reordered"
        ),
    ]

    @Test func verifyNamesEachTamperedRowAndExitsNonZero() async throws {
        try await onOwnThread {
            let dir = NSTemporaryDirectory() + "sluice-live-audit-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let db = dir + "/sluice.sqlite"
            // Seven rows written by the real controller binary.
            for name in ["alice", "bob", "carol", "dave", "erin", "frank"] {
                #expect(try runProgram("sluiced", ["token", "create", "--name", name, "--db", db]).status == 0)
            }
            #expect(try runProgram("sluiced", ["enroll-token", "create", "--name", "fleet", "--uses", "3", "--db", db]).status == 0)
            #expect(try Self.sqlite(db, "SELECT count(*) FROM audit_events") == "7")

            let intact = try runProgram("sluicectl", ["audit", "verify", "--db", db])
            #expect(intact.status == 0, "\(intact.stderr)")
            #expect(intact.stdout.hasPrefix("audit chain intact: 7 rows (seq 1...7), head "), "\(intact.stdout)")

            for (name, sql, expected) in Self.tamperings {
                let copy = "\(dir)/\(name.replacingOccurrences(of: " ", with: "-")).sqlite"
                try FileManager.default.copyItem(atPath: db, toPath: copy)
                _ = try Self.sqlite(copy, Self.dropTriggers + sql)
                let result = try runProgram("sluicectl", ["audit", "verify", "--db", copy])
                #expect(result.status == 1, "\(name): \(result.stdout) \(result.stderr)")
                #expect(result.stderr.contains("audit chain broken " + expected), "\(name): \(result.stderr)")
            }

            // The newest rows deleted and SQLite's counter reset: the chain alone looks intact; the
            // head given with --head (as verify printed it) finds the truncation.
            let head = try #require(intact.stdout.split(separator: " ").first { $0.hasPrefix("7:") }.map { String($0.dropLast()) })
            let truncated = dir + "/truncated.sqlite"
            try FileManager.default.copyItem(atPath: db, toPath: truncated)
            _ = try Self.sqlite(truncated, Self.dropTriggers + "DELETE FROM audit_events WHERE seq >= 6; UPDATE sqlite_sequence SET seq = 5 WHERE name = 'audit_events';")
            #expect(try runProgram("sluicectl", ["audit", "verify", "--db", truncated]).status == 0)
            let found = try runProgram("sluicectl", ["audit", "verify", "--db", truncated, "--head", head])
            #expect(found.status == 1 && found.stderr.contains("audit chain broken at seq 6: rows 6...7, the newest, are missing (truncated)"), "\(found.stderr)")
            let bad = try runProgram("sluicectl", ["audit", "verify", "--db", db, "--head", "7:xyz"])
            #expect(bad.status != 0 && bad.stderr.contains("invalid audit head \"7:xyz\": expected SEQ:HASH"), "\(bad.stderr)")

            // An export verifies alone, from its anchors; a tampered copy of it does not.
            let export = dir + "/range.ndjson"
            let exported = try runProgram("sluicectl", ["audit", "export", "--db", db, "--since", "1h", "--out", export])
            #expect(exported.status == 0 && exported.stderr.contains("exported 7 rows (seq 1...7)"), "\(exported.stderr)")
            #expect(try runProgram("sluicectl", ["audit", "verify", "--file", export]).status == 0)
            #expect(try runProgram("sluicectl", ["audit", "export", "--db", db, "--out", export]).status != 0, "overwrote an export")
            let text = try String(contentsOfFile: export, encoding: .utf8)
            try text.replacingOccurrences(of: "\"name\\\":\\\"bob\\\"", with: "\"name\\\":\\\"eve\\\"").write(toFile: export, atomically: true, encoding: .utf8)
            let forged = try runProgram("sluicectl", ["audit", "verify", "--file", export])
            #expect(forged.status == 1 && forged.stderr.contains("at seq 2: row 2 was edited"), "\(forged.stderr)")
        }
    }

    @Test func filtersAndFormatsOnTheCommandLine() async throws {
        try await onOwnThread {
            let dir = NSTemporaryDirectory() + "sluice-live-audit-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let db = dir + "/sluice.sqlite"
            #expect(try runProgram("sluiced", ["token", "create", "--name", "alice,\"the-admin\"", "--db", db]).status == 0)
            #expect(try runProgram("sluiced", ["enroll-token", "create", "--name", "fleet", "--uses", "3", "--db", db]).status == 0)

            let csv = try runProgram("sluicectl", ["audit", "--db", db, "--format", "csv", "--kind", "token.*", "--tz", "Europe/Paris"])
            #expect(csv.status == 0, "\(csv.stderr)")
            let lines = csv.stdout.components(separatedBy: "\r\n")
            #expect(lines.count == 3 && lines[0].hasPrefix("seq,time,actor,kind,"))
            #expect(lines[1].hasPrefix("1,") && lines[1].contains(",local:") && lines[1].contains("\"\"name\"\":\"\"alice,\\\"\"the-admin\\\"\"\"\""), "\(lines[1])")
            let json = try runProgram("sluicectl", ["audit", "--db", db, "--format", "json", "--actor", "local:*", "--since", "1h"])
            let objects = try json.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            #expect(objects.map { $0["kind"] as? String } == ["token.created", "enrollment-token.created"])
            let none = try runProgram("sluicectl", ["audit", "--db", db, "--until", "2000-01-01", "--format", "table"])
            #expect(none.status == 0 && none.stdout.split(separator: "\n").count == 1, "header only: \(none.stdout)")
            let timeline = try runProgram("sluicectl", ["audit", "--db", db, "--tz", "Asia/Kolkata"])
            #expect(timeline.stdout.hasPrefix("# All times are Asia/Kolkata (UTC+5:30)\n"), "\(timeline.stdout)")
            #expect(timeline.stdout.contains("created enrollment token fleet (3 uses)"))
            let bad = try runProgram("sluicectl", ["audit", "--db", db, "--since", "last tuesday"])
            #expect(bad.status != 0 && bad.stderr.contains("invalid time"), "\(bad.stderr)")
            let badZone = try runProgram("sluicectl", ["audit", "--db", db, "--tz", "Mars/Base"])
            #expect(badZone.status != 0 && badZone.stderr.contains("unknown time zone"), "\(badZone.stderr)")
            #expect(try runProgram("sluicectl", ["postmortem", "1", "--db", db]).stderr.contains("nothing about rollout 1"))
        }
    }

    /// Through a running controller instead of the file; runs once the audit routes are in `APIRoute.all`.
    @Test(.enabled(if: APIRoute.all.contains(.queryAudit), "the audit routes are not wired into the controller yet"))
    func theSameCommandsWorkAgainstARunningController() async throws {
        try await onOwnThread {
            let dir = NSTemporaryDirectory() + "sluice-live-audit-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let db = dir + "/sluice.sqlite"
            let token = try runProgram("sluiced", ["token", "create", "--name", "alice", "--db", db]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let controller = try BackgroundProgram("sluiced", ["--db", db, "--port-file", dir + "/port", "--listen", "127.0.0.1:0"], logPath: dir + "/sluiced.log")
            let port = try controller.waitForFile(dir + "/port").trimmingCharacters(in: .whitespacesAndNewlines)
            let environment = ["SLUICE_CONTROLLER": "http://127.0.0.1:\(port)", "SLUICE_TOKEN": token]
            func ctl(_ arguments: [String]) throws -> Finished { try runProgram("sluicectl", arguments, environment: environment) }

            let json = try ctl(["audit", "--format", "json", "--kind", "token.created"])
            #expect(json.status == 0 && json.stdout.split(separator: "\n").count == 1, "\(json.stderr)")
            let verify = try ctl(["audit", "verify"])
            #expect(verify.status == 0 && verify.stdout.hasPrefix("audit chain intact: 1 rows"), "\(verify.stdout)\(verify.stderr)")
            let export = dir + "/online.ndjson"
            #expect(try ctl(["audit", "export", "--out", export]).status == 0)
            #expect(try runProgram("sluicectl", ["audit", "verify", "--file", export]).status == 0)
            #expect(try ctl(["postmortem", "1"]).stderr.contains("nothing about rollout 1"))
            #expect(try controller.stop(signal: SIGTERM) == 0)
        }
    }
}
