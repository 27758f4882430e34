import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// `sluiced audit archive` and `sluicectl audit verify --archive` as an operator runs them, on
/// a real SQLite file written by the real programs.
@Suite("Live: archiving the audit log with sluiced, verifying it with sluicectl")
struct AuditArchiveCLITests {
    @Test func archiveThenVerifyTheLogTheArchiveAndBothAndRefuseBadLimits() async throws {
        try await onOwnThread {
            let dir = NSTemporaryDirectory() + "sluice-live-archive-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let db = dir + "/sluice.sqlite"
            for name in ["alice", "bob", "carol", "dave", "erin", "frank", "grace"] {
                #expect(try runProgram("sluiced", ["token", "create", "--name", name, "--db", db]).status == 0)
            }
            let archive = dir + "/audit-1.ndjson"

            // Bad limits: one line naming the option, nothing changed, no file.
            let refusals: [([String], String)] = [
                (["--through-seq", "99"], "--through-seq 99: seq 99 is past the end of the log, which ends at seq 7; nothing was changed"),
                (["--before", "yesterday-ish"], "--before yesterday-ish: "),
                (["--through-seq", "0"], "--through-seq 0: a sequence number is 1 or more"),
                ([], "give --before DATE or --through-seq N (one of them)"),
            ]
            for (limit, message) in refusals {
                let refused = try runProgram("sluiced", ["audit", "archive", "--db", db, "--to", archive] + limit)
                #expect(refused.status != 0 && refused.stderr.contains(message), "\(limit): \(refused.stderr)")
                // (Usage lines follow argument errors, as for every command.)
                #expect(refused.stderr.split(separator: "\n").filter { $0.contains(message) }.count == 1, "\(refused.stderr)")
                #expect(!FileManager.default.fileExists(atPath: archive))
            }
            #expect(try SQLiteShell.run(db, "SELECT count(*) FROM audit_events") == "7")

            let archived = try runProgram("sluiced", ["audit", "archive", "--db", db, "--through-seq", "5", "--to", archive])
            #expect(archived.status == 0, "\(archived.stderr)")
            #expect(archived.stderr.contains("archived 5 events (seq 1...5, head 5:") && archived.stderr.contains("the live log resumes at seq 6"), "\(archived.stderr)")
            #expect(try SQLiteShell.run(db, "SELECT min(seq), max(seq), (SELECT kind FROM audit_events WHERE seq = 8) FROM audit_events") == "6|8|audit.archived")

            let live = try runProgram("sluicectl", ["audit", "verify", "--db", db])
            #expect(live.status == 0 && live.stdout.hasPrefix("audit chain intact: 3 rows (seq 6...8), head 8:"), "\(live.stdout) \(live.stderr)")
            let alone = try runProgram("sluicectl", ["audit", "verify", "--file", archive])
            #expect(alone.status == 0 && alone.stdout.hasPrefix("audit chain intact: 5 rows (seq 1...5)"), "\(alone.stdout) \(alone.stderr)")
            let both = try runProgram("sluicectl", ["audit", "verify", "--db", db, "--archive", archive])
            #expect(both.status == 0 && both.stdout.contains("archives intact: 5 rows (seq 1...5) in 1 file(s)"), "\(both.stdout) \(both.stderr)")
            let query = try runProgram("sluicectl", ["audit", "query", "--db", db])
            #expect(query.status == 0 && query.stderr.contains("note: the log starts after seq 5: events through seq 5 are archived in \(archive)"), "\(query.stderr)")
            let recent = try runProgram("sluicectl", ["audit", "query", "--db", db, "--since", "2099-01-01"])
            #expect(recent.status == 0 && !recent.stderr.contains("archived"), "nothing asked for is archived: \(recent.stderr)")

            // Deleting more than was archived is found at the first missing row.
            _ = try SQLiteShell.run(db, "DROP TRIGGER audit_events_are_never_deleted; DELETE FROM audit_events WHERE seq = 6;")
            let broken = try runProgram("sluicectl", ["audit", "verify", "--db", db])
            #expect(broken.status == 1 && broken.stderr.contains("audit chain broken at seq 6: row 6 is missing (deleted)"), "\(broken.stderr)")
            // And a broken chain is not archived.
            let refused = try runProgram("sluiced", ["audit", "archive", "--db", db, "--through-seq", "7", "--to", dir + "/audit-2.ndjson"])
            #expect(refused.status != 0 && refused.stderr.contains("refusing to archive: audit chain broken at seq 6"), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/audit-2.ndjson"))
        }
    }
}
