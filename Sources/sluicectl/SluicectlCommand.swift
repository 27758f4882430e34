import ArgumentParser
import Foundation
import SluiceAPI
import SluiceClient
import SluiceCore

@main
struct SluicectlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluicectl",
        abstract: "Operate Sluice: hosts, pending updates, policies, rollouts, waves and tokens.",
        version: SluiceVersion.current,
        subcommands: [HostsCommand.self, UpdatesCommand.self, RolloutCommand.self, WaveCommand.self, TokenCommand.self, EnrollTokenCommand.self, PolicyCommand.self, AuditCommand.self, PostmortemCommand.self, DemoCommand.self]
    )
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// What every command that talks to the controller shares.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Controller URL (also SLUICE_CONTROLLER). [default: http://127.0.0.1:8460]")
    var controller: String?

    @Option(help: "Operator token (also SLUICE_TOKEN).")
    var token: String?

    @Option(help: "The private CA (PEM) the controller's https certificate must chain to (also SLUICE_CA_FILE). [default: the system's trust store]")
    var caFile: String?

    @Option(help: "table for people, json for scripts.")
    var output: OutputFormat = .table

    func client() throws -> SluiceHTTPClient {
        let environment = ProcessInfo.processInfo.environment
        let url = controller ?? environment["SLUICE_CONTROLLER"] ?? "http://127.0.0.1:8460"
        guard let token = token ?? environment["SLUICE_TOKEN"], !token.isEmpty else {
            throw InvalidInput("no operator token: pass --token or set SLUICE_TOKEN (the first one comes from `sluiced token create`)")
        }
        return try SluiceHTTPClient(controller: url, token: token, tls: ClientTLS(caFile: caFile ?? environment["SLUICE_CA_FILE"]))
    }

    /// Prints `value` as JSON, or runs `table` for people (terminal controls in it escaped:
    /// host-supplied text is printed as given otherwise).
    func emit<Value: Encodable>(_ value: Value, table: () -> String) throws {
        switch output {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(value), as: UTF8.self))
        case .table:
            print(TerminalText.escaped(table()), terminator: "")
        }
    }
}

/// Columns padded to their widest cell; the last column is not padded.
func renderTable(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    var widths = [Int](repeating: 0, count: header.count)
    for row in all { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    return all.map { row in
        row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}

/// `3m ago`, `never`.
func ago(_ ms: Int64?, nowMs: Int64 = SystemWallClock().nowMs()) -> String {
    guard let ms else { return "never" }
    return formatDuration(ms: nowMs - ms) + " ago"
}
