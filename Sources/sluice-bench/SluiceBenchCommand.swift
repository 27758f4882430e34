import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

@main
struct SluiceBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-bench", abstract: "Benchmarks that print figures (not timed tests).",
        subcommands: [
            CheckinsBenchmark.self, PlanBenchmark.self, HaltBenchmark.self, AgentFootprintBenchmark.self, AuditBenchmark.self, BareServer.self,
            ConnectionFloodBenchmark.self, HostileHostBenchmark.self,
        ])
}

/// Fills a temporary SQLite file with a synthetic year of audit events through the store's
/// own append path, then measures what operators do after an incident.
struct AuditBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "1,000,000 audit events: a one-host one-day timeline, a one-rollout postmortem, a full-chain verify.")

    @Option(help: "How many events to write (whole days of about 3,000 are written until this many).") var events = 1_000_000
    @Option(help: "Keep the database here instead of a temporary file that is removed; reuse it if it exists.") var keep: String?
    @Option(help: "Repetitions of each query; the median and the slowest are printed.") var repeats = 20

    func run() throws {
        print(machine())
        let path = keep ?? NSTemporaryDirectory() + "sluice-bench-\(UUID().uuidString).sqlite"
        defer { if keep == nil { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } } }
        var log = SyntheticAuditLog()
        let reuse = keep.map { FileManager.default.fileExists(atPath: $0) } ?? false
        let database = try SluiceDatabase.open(path: path, nowMs: SyntheticAuditLog.startMs)
        var written = 0
        var day = 0
        let fill = try measure {
            while written < events {
                if reuse {
                    // The same days again, only to know the samples; the file already holds them.
                    written += log.day(day).count
                    day += 1
                    continue
                }
                let batch = log.day(day)
                try database.appendAuditEvents(batch)
                written += batch.count
                day += 1
            }
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1_048_576
        print("filled \(path): \(written) events over \(day) days in \(format(fill)) s (\(Int(Double(written) / fill)) events/s), \(size) MiB")

        // Read as sluicectl --db does: a read-only pool over the file.
        let reader = try SluiceDatabase.openReadOnly(path: path)
        let paris = try AuditTime.zone(named: "Europe/Paris")
        let samples = Array(log.samples.prefix(repeats))

        var lines = 0
        let timeline = try samples.map { sample in
            try measure {
                let page = try reader.auditPage(
                    AuditQuery(sinceMs: sample.dayStartMs, untilMs: sample.dayStartMs + SyntheticAuditLog.dayMs, hostID: sample.host, limit: 100_000))
                lines = AuditRendering(zone: paris).timeline(page.events).split(separator: "\n").count - 1
            }
        }
        report("one-host one-day timeline (query + render, \(lines) events)", timeline, target: "< 50 ms")

        var size2 = 0
        let postmortem = try samples.map { sample in
            try measure {
                let history = try reader.rolloutHistory(sample.rollout)
                size2 = history.events.count
                _ = Postmortem(history: history).markdown(zone: paris, slo: 99.9)
            }
        }
        report("one-rollout postmortem (history + analysis + Markdown, \(size2) events)", postmortem, target: "< 500 ms")

        for workers in [1, ProcessInfo.processInfo.activeProcessorCount] {
            var result: AuditVerification?
            let seconds = try measure { result = try reader.verifyAudit(workers: workers, parallelAbove: 0) }
            guard let result, result.intact else { throw ValidationError("the chain does not verify: \(String(describing: result?.problem))") }
            print("full-chain verify, \(workers) worker(s): \(result.rows) rows in \(format(seconds)) s = \(Int(Double(result.rows) / seconds)) rows/s (target > 500000 rows/s)")
        }
    }

    func machine() -> String { benchmarkMachine() }

    func measure(_ body: () throws -> Void) throws -> Double { try benchmarkMeasure(body) }

    func report(_ what: String, _ seconds: [Double], target: String) { benchmarkReport(what, seconds, target: target) }

    func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
