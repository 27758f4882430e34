import Foundation
import SluiceCore

/// Reads the host's inventory in a short-lived child process: the agent's own executable run
/// as `sluice-agent --print-inventory`, which reads dpkg and apt (``SystemInventory``) and
/// prints the report as JSON.
///
/// The long-running agent then never runs the dpkg and apt parsers, swift-subprocess's
/// plumbing for three or four commands, or the allocations of a few thousand packages: that
/// code and memory live and die with the child, every `report_interval`. Only the JSON
/// decoding of the report runs here, the code the agent already uses for its messages. At
/// rest the agent then keeps its resident set to what its heartbeats use
/// (docs/BENCHMARKS.md). A child that fails, is killed or prints something that is not a
/// valid report is one error, like a failed `dpkg-query`.
public struct ChildProcessInventory: InventorySource {
    /// The program run with `--print-inventory`: `/proc/self/exe` on Linux, this very binary
    /// even if its file was replaced by an upgrade since it started.
    public let executable: String
    /// Runs it (argv, no shell).
    public let runner: any CommandRunner
    /// How long one read may take. Each command in the child has its own limit (`dpkg-query`
    /// 60 s, `apt-get -s` 300 s, each `apt-cache policy` 120 s); this bounds the whole.
    public static let timeout: Duration = .seconds(600)

    public init(executable: String = "/proc/self/exe", runner: any CommandRunner) {
        self.executable = executable
        self.runner = runner
    }

    public func collect() async throws -> InventoryReport {
        let result = try await runner.run(executable, ["--print-inventory"], environment: [:], timeout: Self.timeout)
        guard result.status == 0 else { throw CommandError.failed("sluice-agent --print-inventory", result) }
        let report: InventoryReport
        do {
            report = try JSONDecoder().decode(InventoryReport.self, from: Data(result.stdout.utf8))
        } catch {
            throw InvalidInput("sluice-agent --print-inventory printed no valid inventory report: \(CommandError.oneLine("\(error)"))")
        }
        try report.validate()
        return report
    }
}
