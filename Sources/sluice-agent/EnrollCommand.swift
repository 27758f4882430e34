import ArgumentParser
import Foundation
import Logging
import SluiceAgent
import SluiceCore

/// `sluice-agent enroll`: enrolls this host, writes the settings the agent then reads, and
/// starts the agent's unit. Nothing is written unless the controller accepted the enrollment.
struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-agent enroll",
        abstract: "Enroll this host with a controller, then enable and start the agent.",
        discussion: """
            Enrolls with the token and keeps this host's secret in the state directory (mode 0600); \
            writes the controller, its CA (copied), the host id and labels to \
            \(AgentConfiguration.dropInDirectory(for: AgentConfiguration.defaultPath))/\(EnrolledSettings.fileName) \
            (mode 0600), which the agent reads after \(AgentConfiguration.defaultPath), leaving that \
            file as installed; takes over from unattended-upgrades (\(UnattendedUpgradesHandover.overridePath) \
            sets APT::Periodic::Unattended-Upgrade "0", apt-daily-upgrade.timer is disabled and stopped \
            if it ran; what was there before is recorded in the state directory's \
            \(UnattendedUpgradesHandover.recordFileName) for `sluice-agent handback`); then runs \
            `systemctl enable --now sluice-agent`. When enrollment fails, nothing is written; when \
            the take-over fails, it is undone and the agent is not started. A host already enrolled \
            is refused: revoke it on the controller and remove its credentials first.
            """)

    @Option(help: "Controller URL: https://HOST:PORT, or http:// to a loopback address.") var controller: String
    @Option(help: "An enrollment token from `sluicectl enroll-token create` (or SLUICE_ENROLL_TOKEN, which ps does not show).")
    var token: String?
    @Option(help: "The controller's private CA (PEM), as printed by `sluiced tls init`; copied beside the settings. [default: the system's trust store]")
    var ca: String?
    @Option(name: .customLong("label"), help: "A label, key=value (repeatable), over those of the config file.") var labels: [String] = []
    @Option(help: "This host's id. [default: the config's host_id, else the host name]") var hostID: String?
    @Option(help: "The agent's config file; the settings go to its drop-in directory.")
    var config: String = AgentConfiguration.defaultPath
    @Option(help: "Where the agent keeps its secret. [default: the config's state_dir, else \(AgentConfiguration.defaultStateDirectory)]")
    var stateDir: String?
    @Flag(help: "Do not run systemctl (a host image prepared before its first boot).") var noStart = false
    @Option(help: .hidden) var systemctl = "systemctl"
    /// The host's root directory, for tests: unattended-upgrades is taken over there.
    @Option(help: .hidden) var root = "/"

    func run() async throws {
        let token = self.token ?? ProcessInfo.processInfo.environment["SLUICE_ENROLL_TOKEN"]
        guard let token, !token.isEmpty else {
            throw ValidationError("no enrollment token: pass --token or set SLUICE_ENROLL_TOKEN (sluicectl enroll-token create makes one)")
        }
        var configuration = AgentConfiguration()
        try configuration.apply(configFile: config, required: false)
        if let stateDir { configuration.stateDirectory = stateDir }
        if let hostID { configuration.hostID = try HostID(parsing: hostID) }
        for text in labels {
            let (key, value) = try Labels.parseAssignment(text)
            configuration.labels[key] = value
        }
        let host = try configuration.resolvedHostID()
        if let saved = try AgentCredentials.load(stateDirectory: configuration.stateDirectory) {
            throw InvalidInput(
                "already enrolled as \(saved.hostID) with \(saved.controller) (\(AgentCredentials.path(in: configuration.stateDirectory))): to enroll again, revoke the host on the controller and remove that file"
            )
        }
        var caPEM: String?
        if let ca {
            do { caPEM = try String(contentsOfFile: ca, encoding: .utf8) } catch {
                throw InvalidInput("cannot read --ca \(ca): \(error.localizedDescription)")
            }
        }

        let credentials = try await Enrollment.enroll(
            controller: controller, token: token, hostID: host, labels: configuration.labels, controllerCA: ca)
        let settings = EnrolledSettings(
            controller: controller, hostID: credentials.hostID, labels: configuration.labels, stateDirectory: configuration.stateDirectory,
            controllerCAPEM: caPEM)
        let directory = AgentConfiguration.dropInDirectory(for: config)
        let accepted = "the controller accepted \(credentials.hostID), but"
        do { try settings.write(in: directory) } catch {
            throw InvalidInput("\(accepted) \(error.message); enroll again with a new token")
        }
        do { try credentials.save(stateDirectory: configuration.stateDirectory) } catch {
            EnrolledSettings.remove(from: directory)
            throw InvalidInput("\(accepted) \(error.message); enroll again with a new token")
        }
        let enrolled = "enrolled as \(credentials.hostID) with \(controller); settings in \(directory)/\(EnrolledSettings.fileName)"
        let handover = UnattendedUpgradesHandover(
            root: HostRoot(path: root, runner: SubprocessRunner()), stateDirectory: configuration.stateDirectory, logger: Logger(label: "sluice-agent"),
            systemctl: systemctl)
        let written: String
        do {
            written = "\(enrolled); \(try await handover.takeOver(now: Date()).summary)"
        } catch {
            throw InvalidInput(
                "\(enrolled), but \(error.message); sluice-agent not started: start it once that is fixed (it takes over when it first reaches the controller): systemctl enable --now sluice-agent")
        }
        if noStart {
            print("\(written); start it with: systemctl enable --now sluice-agent")
            return
        }
        let started = await HostRoot(runner: SubprocessRunner()).outcome(
            [systemctl, "enable", "--now", "sluice-agent.service"], timeout: .seconds(120))
        guard started.status == 0 else {
            let reason = (started.stderr + started.stdout).split(whereSeparator: \.isNewline).first.map(String.init) ?? "exit status \(started.status)"
            throw InvalidInput("\(written), but `systemctl enable --now sluice-agent` failed: \(reason); run it by hand")
        }
        print("\(written); sluice-agent enabled and started")
    }
}
