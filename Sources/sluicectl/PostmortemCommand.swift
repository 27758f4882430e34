import ArgumentParser
import Foundation
import SluiceClient
import SluiceCore
import SluiceStore

struct PostmortemCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postmortem",
        abstract: "A Markdown postmortem of one rollout: timeline, impact per redundancy group, failures, detection, decisions, error budget.",
        discussion: "Every figure is computed from the audit log. Works offline on a copy of the database with --db FILE.")

    @Argument(help: "The rollout id.") var rollout: Int64
    @Option(help: "The availability objective in percent, for the error budget (99.9 allows 43.2 minutes in 30 days).")
    var slo: Double = 99.9
    @Option(help: ArgumentHelp("Write the Markdown here instead of standard output.", valueName: "FILE")) var out: String?
    @OptionGroup var zone: ZoneOption
    @OptionGroup var source: AuditSource

    func validate() throws {
        guard slo > 0, slo < 100 else { throw ValidationError("--slo must be a percentage between 0 and 100, such as 99.9") }
        guard rollout > 0 else { throw ValidationError("the rollout id must be a positive whole number") }
    }

    func run() async throws {
        let zone = try zone.zone()
        let history: RolloutHistory
        switch try source.open() {
        case .file(let database): history = try database.rolloutHistory(rollout)
        case .controller(let client): history = try await client.rolloutHistory(rollout)
        }
        if let archived = history.archived {
            note("note: rollout \(rollout)'s first events are not in the log: \(archived.note); the postmortem covers only what follows")
        }
        let markdown = Postmortem(history: history).markdown(zone: zone, slo: slo)
        if let out {
            try markdown.write(toFile: out, atomically: true, encoding: .utf8)
            note("wrote the postmortem of rollout \(rollout) to \(out)")
        } else {
            writeOut(TerminalText.escaped(markdown))
        }
    }
}
