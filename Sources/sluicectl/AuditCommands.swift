import ArgumentParser
import Foundation
import SluiceClient
import SluiceCore
import SluiceStore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit log: query it, verify its hash chain, export a range.",
        subcommands: [Query.self, Verify.self, Export.self], defaultSubcommand: Query.self)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case timeline, table, json, csv
    }

    /// The filters of `sluicectl audit`; every one given must hold.
    struct Filters: ParsableArguments {
        @Option(help: "From this instant: RFC 3339 (2024-07-24T08:20:00Z), a date (2024-07-24, in --tz), or back from now (2h, 7d).")
        var since: String?
        @Option(help: "Before this instant (same forms as --since).") var until: String?
        @Option(help: "Only this rollout's events.") var rollout: Int64?
        @Option(help: "Only events about this host.") var host: String?
        @Option(help: "Only events in this region.") var region: String?
        @Option(help: "Only events of this redundancy group (role@region).") var group: String?
        @Option(help: "Only events naming this package (bind9, or bind9=VERSION).") var package: String?
        @Option(help: "Only this actor (operator:alice), or a prefix ending in * (operator:*).") var actor: String?
        @Option(help: "Only this kind (rollout.halted), or a prefix ending in * (agent.*).") var kind: String?
        @Option(help: "At most this many events: the first ones from --since, else the newest.") var limit: Int = 1000

        func query(zone: TimeZone, nowMs: Int64) throws -> AuditQuery {
            let query = AuditQuery(
                sinceMs: try since.map { try AuditTime.parseInstant($0, nowMs: nowMs, zone: zone) },
                untilMs: try until.map { try AuditTime.parseInstant($0, nowMs: nowMs, zone: zone) }, rolloutID: rollout, hostID: host,
                region: region, group: group, package: package, actor: actor, kind: kind, limit: limit, take: since == nil ? .last : .first)
            do { try query.validate() } catch { throw ValidationError(error.message) }
            return query
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "query", abstract: "Events matching the filters, in sequence order, as a timeline, table, NDJSON or CSV.")
        @OptionGroup var filters: Filters
        @Option(help: "timeline (for people), table, json (NDJSON) or csv (RFC 4180).") var format: Format = .timeline
        @OptionGroup var zone: ZoneOption
        @OptionGroup var source: AuditSource

        func run() async throws {
            let zone = try zone.zone()
            let query = try filters.query(zone: zone, nowMs: SystemWallClock().nowMs())
            let page = try await source.page(query)
            let events = page.events
            let rendering = AuditRendering(zone: zone)
            switch format {
            case .timeline: writeOut(TerminalText.escaped(rendering.timeline(events)))
            case .table: writeOut(TerminalText.escaped(rendering.table(events)))
            case .json: writeOut(events.map { AuditRendering.ndjsonLine($0) + "\n" }.joined())
            case .csv: writeOut(rendering.csv(events))
            }
            // Only when the events asked for may reach back into the archive.
            if case .file(let database) = try source.open(), let anchor = try database.auditAnchor() {
                let oldest = try database.auditPage(AuditQuery(limit: 1, take: .first)).records.first?.event.atMs ?? Int64.max
                if query.take == .first ? (query.sinceMs ?? Int64.min) <= oldest : !page.more {
                    note("note: the log starts after seq \(anchor.throughSeq): \(anchor.note)")
                }
            }
            if page.more {
                note("note: more events match than --limit \(query.limit); " + (query.take == .first ? "showing the first ones from --since" : "showing the newest") + ". Narrow the filters or raise --limit.")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the hash chain and name the first row edited, deleted, inserted or reordered; exit 1 if any.")
        @Option(help: ArgumentHelp("Verify an NDJSON export on its own, from its anchors, instead of a database.", valueName: "EXPORT"))
        var file: String?
        @Option(
            help: ArgumentHelp(
                "A head recorded earlier (as verify prints it): the chain must still hold that row with that hash. The head sluiced witnessed beside its database (<db>.audit-head) is always checked.",
                valueName: "SEQ:HASH"))
        var head: String?
        @Option(
            help: ArgumentHelp(
                "An archive `sluiced audit archive` wrote (repeatable): verified with the database given by --db, from the oldest archive's first row to the live head.",
                valueName: "ARCHIVE"))
        var archive: [String] = []
        @OptionGroup var source: AuditSource

        func run() async throws {
            let result: AuditVerification
            let given = try head.map { text in
                do throws(InvalidInput) { return try AuditHead(parsing: text) } catch { throw ValidationError(error.message) }
            }
            if let file {
                guard source.db == nil else { throw ValidationError("give --file or --db, not both") }
                guard given == nil else { throw ValidationError("--head checks a database, not an export") }
                guard archive.isEmpty else { throw ValidationError("--archive verifies with a database (--db FILE); verify an archive alone with --file") }
                result = try SluiceDatabase.verifyAuditExport(path: file)
            } else {
                switch try source.open() {
                case .file(let database):
                    let witnessed = try SluiceDatabase.witnessedHead(databasePath: database.path)
                    result = try database.verifyAudit(heads: [witnessed, given].compactMap { $0 })
                    if !archive.isEmpty {
                        let archived = try SluiceDatabase.verifyAuditArchives(paths: archive, anchor: try database.auditAnchor())
                        guard archived.intact else {
                            note(archived.summary)
                            throw ExitCode.failure
                        }
                        if result.intact {
                            print("archives intact: \(archived.rows) rows (seq \(archived.firstSeq ?? 0)...\(archived.lastSeq ?? 0)) in \(archive.count) file(s), ending at the anchor the live log resumes from")
                        }
                    }
                case .controller(let client):
                    guard archive.isEmpty else { throw ValidationError("--archive verifies with a database file: give --db FILE (a copy of the controller's)") }
                    result = try await client.verifyAudit(head: given)
                }
            }
            guard result.intact else {
                note(result.summary)
                throw ExitCode.failure
            }
            print(result.summary)
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a range of the log as NDJSON with its chain anchors, to archive and verify later (audit verify --file).")
        @Option(help: "From the first event at or after this instant (forms as for audit --since).") var since: String?
        @Option(help: "To the last event before this instant.") var until: String?
        @Option(help: ArgumentHelp("Write here (refuses to overwrite). [default: standard output]", valueName: "FILE")) var out: String?
        @OptionGroup var zone: ZoneOption
        @OptionGroup var source: AuditSource

        func run() async throws {
            let zone = try zone.zone()
            let now = SystemWallClock().nowMs()
            let sinceMs = try since.map { try AuditTime.parseInstant($0, nowMs: now, zone: zone) }
            let untilMs = try until.map { try AuditTime.parseInstant($0, nowMs: now, zone: zone) }
            let sink = try ExportSink(path: out)
            let header: AuditExportHeader
            let verdict: AuditVerification
            do {
                switch try source.open() {
                case .file(let database):
                    (header, verdict) = try database.exportAudit(sinceMs: sinceMs, untilMs: untilMs, nowMs: now, write: sink.write)
                case .controller(let client):
                    (header, verdict) = try await Self.export(client, sinceMs: sinceMs, untilMs: untilMs, nowMs: now, sink: sink)
                }
                try sink.finish()
            } catch {
                sink.abandon()
                throw error
            }
            let range = header.firstSeq.map { "seq \($0)...\(header.lastSeq ?? $0)" } ?? "nothing"
            note("exported \(verdict.rows) rows (\(range))\(out.map { " to \($0)" } ?? ""); anchors: before \(header.anchorPrevHash ?? "-"), head \(header.anchorHash ?? "-")")
            if let problem = verdict.problem {
                note("warning: the exported range does not verify: \(problem.description)")
                throw ExitCode.failure
            }
        }

        /// Through the API: the anchors from the range's first and last rows, then pages in order.
        static func export(
            _ client: SluiceHTTPClient, sinceMs: Int64?, untilMs: Int64?, nowMs: Int64, sink: ExportSink
        ) async throws -> (AuditExportHeader, AuditVerification) {
            let first = try await client.auditPage(AuditQuery(sinceMs: sinceMs, limit: 1, take: .first)).records.first
            let last = try await client.auditPage(AuditQuery(untilMs: untilMs, limit: 1, take: .last)).records.first
            guard let first, let last, first.event.seq <= last.event.seq else {
                let header = AuditExportHeader(
                    firstSeq: nil, lastSeq: nil, rows: 0, anchorPrevHash: nil, anchorHash: nil, sinceMs: sinceMs, untilMs: untilMs, exportedAtMs: nowMs)
                try sink.write(AuditExportFormat.headerLine(header) + "\n")
                return (header, AuditVerification(rows: 0, firstSeq: nil, lastSeq: nil, headHash: nil, problem: nil, elapsedMs: 0))
            }
            let header = AuditExportHeader(
                firstSeq: first.event.seq, lastSeq: last.event.seq, rows: last.event.seq - first.event.seq + 1, anchorPrevHash: first.prevHash,
                anchorHash: last.hash, sinceMs: sinceMs, untilMs: untilMs, exportedAtMs: nowMs)
            try sink.write(AuditExportFormat.headerLine(header) + "\n")
            var verifier = AuditRangeVerifier(firstSeq: first.event.seq, anchorPrevHash: first.prevHash)
            var cursor = first.event.seq - 1
            while true {
                let page = try await client.auditPage(AuditQuery(afterSeq: cursor, throughSeq: last.event.seq, limit: 10_000, take: .first))
                for record in page.records { verifier.add(record) }
                try sink.write(page.records.map { AuditExportFormat.line($0) + "\n" }.joined())
                guard page.more, let next = page.records.last?.event.seq else { break }
                cursor = next
            }
            return (header, verifier.result(anchorHash: last.hash, lastSeq: last.event.seq))
        }
    }
}

/// Standard output, or a new file written beside its final name and moved there once complete.
final class ExportSink {
    let path: String?
    let handle: FileHandle

    init(path: String?) throws {
        self.path = path
        guard let path else {
            handle = FileHandle.standardOutput
            return
        }
        guard !FileManager.default.fileExists(atPath: path) else { throw ValidationError("\(path) exists; refusing to overwrite an export") }
        guard FileManager.default.createFile(atPath: path + ".partial", contents: nil), let file = FileHandle(forWritingAtPath: path + ".partial") else {
            throw ValidationError("cannot write \(path).partial")
        }
        handle = file
    }

    func write(_ text: String) throws { try handle.write(contentsOf: Data(text.utf8)) }

    func finish() throws {
        guard let path else { return }
        try handle.synchronize()
        try handle.close()
        try FileManager.default.moveItem(atPath: path + ".partial", toPath: path)
    }

    func abandon() {
        guard let path else { return }
        try? handle.close()
        try? FileManager.default.removeItem(atPath: path + ".partial")
    }
}
