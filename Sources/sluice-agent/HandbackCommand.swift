import ArgumentParser
import Foundation
import Logging
import SluiceAgent
import SluiceCore

/// `sluice-agent handback`: gives the host back to unattended-upgrades exactly as it was
/// before the agent took over. The package's removal runs it.
struct HandbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-agent handback",
        abstract: "Hand this host back to unattended-upgrades as it was before the agent took over.",
        discussion: """
            Restores what the state directory's \(UnattendedUpgradesHandover.recordFileName) says the take-over \
            changed: removes \(UnattendedUpgradesHandover.overridePath), and enables and starts \
            \(UnattendedUpgradesHandover.timerUnit) again only if it was enabled and active before; then \
            removes the record. With no record, it changes nothing. The agent takes the host over again \
            when it next starts: disable it too (systemctl disable --now sluice-agent). \
            `apt remove` and `apt purge` of sluice-agent run this after stopping the agent.
            """)

    @Option(help: "The agent's config file, for its state_dir.") var config: String = AgentConfiguration.defaultPath
    @Option(help: "The agent's state directory. [default: the config's state_dir, else \(AgentConfiguration.defaultStateDirectory)]")
    var stateDir: String?
    @Option(help: .hidden) var systemctl = "systemctl"
    /// The host's root directory, for tests.
    @Option(help: .hidden) var root = "/"

    func run() async throws {
        var configuration = AgentConfiguration()
        if stateDir == nil { try configuration.apply(configFile: config, required: false) }
        if let stateDir { configuration.stateDirectory = stateDir }
        var logger = Logger(label: "sluice-agent")
        logger.logLevel = .notice
        let handover = UnattendedUpgradesHandover(
            root: HostRoot(path: root, runner: SubprocessRunner()), stateDirectory: configuration.stateDirectory, logger: logger, systemctl: systemctl)
        do {
            if try await handover.handBack(reason: .command, now: Date()) == nil {
                print("not taken over (no \(configuration.stateDirectory)/\(UnattendedUpgradesHandover.recordFileName)): nothing to hand back")
            } else {
                print("handed back to unattended-upgrades")
            }
        } catch {
            throw InvalidInput(error.message)
        }
    }
}
