import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

/// The audit log on the controller host, outside the API: retention writes the database and
/// files beside it, so it runs as the service's user, like `sluiced token revoke`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit log on the controller host: archive its oldest events.", subcommands: [Archive.self])

    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move the oldest audit events to an archive file and delete them, leaving an anchor the rest verifies from.",
            discussion: """
                Verifies the whole chain first (and the head witnessed beside the database) and refuses if it is broken. \
                Writes the range in the format of `sluicectl audit export` (verify it alone with `sluicectl audit verify --file`), \
                synced to disk, then in one transaction records the anchor (the last archived row's seq and hash, the file's \
                name and SHA-256), appends an audit.archived event and deletes the archived rows. Interrupted, it changes \
                nothing in the database; run it again. Run it as the service's user (runuser -u sluice -- sluiced audit archive ...); \
                sluiced may be running. Keep the file on write-once storage: the events in it are no longer in the database.
                """)

        @OptionGroup var store: StoreOptions
        @Option(help: "Archive every event before this instant: RFC 3339 (2026-01-01T00:00:00Z), a date (2026-01-01, UTC), or back from now (400d).")
        var before: String?
        @Option(help: "Archive every event through this sequence number.") var throughSeq: Int64?
        @Option(name: .customLong("to"), help: ArgumentHelp("The archive file to write (an existing one only if it is this very range).", valueName: "FILE"))
        var to: String

        func validate() throws {
            guard (before == nil) != (throughSeq == nil) else { throw ValidationError("give --before DATE or --through-seq N (one of them)") }
            if let throughSeq, throughSeq < 1 { throw ValidationError("--through-seq \(throughSeq): a sequence number is 1 or more") }
        }

        func run() async throws {
            let now = SystemWallClock().nowMs()
            let limit: SluiceDatabase.AuditArchiveLimit
            let option: String
            if let before {
                option = "--before \(before)"
                do throws(InvalidInput) {
                    limit = .beforeMs(try AuditTime.parseInstant(before, nowMs: now, zone: TimeZone(identifier: "UTC")!))
                } catch { throw InvalidInput("\(option): \(error.message)") }
            } else {
                option = "--through-seq \(throughSeq!)"
                limit = .throughSeq(throughSeq!)
            }
            let database = try store.open(try store.settings())
            let anchor: AuditArchiveAnchor
            do {
                anchor = try database.archiveAudit(limit, to: to, actor: .local(localUser()), nowMs: now)
            } catch let error as SluiceDatabase.AuditArchiveLimitError {
                throw InvalidInput("\(option): \(error.description); nothing was changed")
            } catch let error as StoreError {
                throw InvalidInput(error.description)
            }
            // sluiced's witness keeps following the head; a stopped one's is brought up to date here.
            if let head = try database.auditHead(), try SluiceDatabase.witnessedHead(databasePath: database.path) != nil {
                var stamped = head
                stamped.atMs = now
                try SluiceDatabase.witness(stamped, databasePath: database.path)
            }
            let rows = anchor.throughSeq - anchor.firstSeq + 1
            FileHandle.standardError.write(
                Data(
                    "archived \(rows) events (seq \(anchor.firstSeq)...\(anchor.throughSeq), head \(anchor.throughSeq):\(anchor.hash)) to \(anchor.file) (sha256 \(anchor.fileSHA256)); the live log resumes at seq \(anchor.throughSeq + 1)\n".utf8))
        }
    }
}
