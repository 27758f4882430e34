import ArgumentParser
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
import SluiceAPI
import SluiceAgent
import SluiceCore

struct SluiceAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-agent",
        abstract: "The Sluice agent: reports this host's packages and pending updates to the controller.",
        discussion: """
            Reads \(AgentConfiguration.defaultPath) if it exists (or --config, which must exist unless its drop-ins do), then the *.yaml files of \
            \(AgentConfiguration.dropInDirectory(for: AgentConfiguration.defaultPath)) in name order \
            (`sluice-agent enroll` writes one: see `sluice-agent enroll --help`), enrolls once with an enrollment \
            token and keeps its own secret in the state directory (mode 0600), then reports on an interval. \
            It applies only assignments an authenticated controller started, through the chosen backend, \
            and reports every step. It keeps unattended-upgrades off (taking over at the first heartbeat the \
            controller answers, if `sluice-agent enroll` has not). With no controller reachable it changes \
            nothing, until orphan_after (default 7d): then it hands the host back to unattended-upgrades (see \
            `sluice-agent handback --help`), and takes it over again once the controller answers. A revoked \
            host is handed back at its first refused heartbeat.
            """,
        version: SluiceVersion.current
    )

    @Option(help: "YAML config file. [default: \(AgentConfiguration.defaultPath), if present]") var config: String?
    @Option(help: "Controller URL: https://HOST:PORT, or http:// to a loopback address.") var controller: String?
    @Option(help: "The controller's private CA (PEM), as printed by `sluiced tls init`. [default: the system's trust store]")
    var controllerCa: String?
    @Option(help: "This host's id. [default: the host name]") var hostID: String?
    @Option(name: .customLong("label"), help: "A label, key=value (repeatable; overrides the config's).") var labels: [String] = []
    @Option(help: "Where the agent keeps its secret, apply journal, saved packages for rollback and held-restart log. [default: \(AgentConfiguration.defaultStateDirectory)]")
    var stateDir: String?
    @Option(help: "Enrollment token for the first start (also SLUICE_ENROLL_TOKEN).") var enrollToken: String?
    @Flag(help: "Report the inventory once and exit.") var once = false
    @Option(help: "Heartbeat interval, such as 10s. [default: 10s]") var heartbeat: String?
    @Option(help: "apt (the real one: apt and dpkg on this host) or simulated (changes nothing; for tests and demos).")
    var backend: String = "apt"
    @Option(name: .customLong("simulate-outcome"), help: "With --backend simulated: PACKAGE=OUTCOME, such as bind9=rolled-back-before-restart (repeatable).")
    var simulatedOutcomes: [String] = []
    @Option(help: "Report this JSON inventory (an InventoryReport) instead of reading dpkg and apt; for simulated fleets.")
    var inventoryFile: String?
    @Flag(help: "Read this host's inventory from dpkg and apt, print it as JSON (an InventoryReport) and exit; changes nothing. The running agent reads it this way, in a child process, on every report interval.")
    var printInventory = false
    /// The root directory whose unattended-upgrades the agent takes over and hands back, for tests.
    @Option(help: .hidden) var root = "/"

    /// One event-loop thread for the agent's few connections (NIO's default is one per core);
    /// set once, before anything starts NIO's shared loops.
    private static let oneEventLoop: Void = { NIOSingletons.groupLoopCountSuggestion = 1 }()

    /// This host's dpkg and apt, read in this process.
    static func systemInventory() -> SystemInventory {
        SystemInventory(agentVersion: SluiceVersion.current, runner: SubprocessRunner())
    }

    func run() async throws {
        _ = Self.oneEventLoop
        if printInventory {
            let report = try await Self.systemInventory().collect()
            FileHandle.standardOutput.write(try JSONEncoder().encode(report))
            return
        }
        let configuration = try resolve()
        var logger = Logger(label: "sluice-agent")
        logger.logLevel = .info
        let packageBackend: any PackageBackend
        switch backend {
        case "apt":
            guard simulatedOutcomes.isEmpty else { throw InvalidInput("--simulate-outcome needs --backend simulated") }
            packageBackend = AptBackend(configuration: .init(stateDirectory: configuration.stateDirectory, ownUnit: OwnUnit.current()))
        case "simulated":
            var outcomes: [String: ApplyOutcome] = [:]
            for text in simulatedOutcomes {
                let (name, outcome) = try SimulatedBackend.parseOutcome(text)
                outcomes[name] = outcome
            }
            packageBackend = SimulatedBackend(outcomes: outcomes)
        default:
            throw InvalidInput("invalid --backend \(quoted(backend)): use apt or simulated")
        }
        // Running as a service, dpkg and apt are read by a child process (`--print-inventory`), so
        // their parsers' code and memory are not kept by the long-running agent.
        let inventory: any InventorySource
        if let inventoryFile {
            inventory = FileInventory(path: inventoryFile)
        } else if once {
            inventory = Self.systemInventory()
        } else {
            inventory = ChildProcessInventory(runner: SubprocessRunner())
        }
        let healthChecker = backend == "apt" ? HealthChecker(root: HostRoot(path: "/", runner: SubprocessRunner())) : nil
        // The real agent keeps unattended-upgrades off while it manages the host (see UnattendedUpgradesHandover).
        let handover =
            backend == "apt"
            ? UnattendedUpgradesHandover(root: HostRoot(path: root, runner: SubprocessRunner()), stateDirectory: configuration.stateDirectory, logger: logger)
            : nil
        let agent = Agent(
            configuration: configuration, inventory: inventory, backend: packageBackend, logger: logger, once: once, healthChecker: healthChecker,
            trimStartupPages: !once, handover: once ? nil : handover)
        if once {
            try await agent.run()
            return
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: agent, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Defaults, then the config file, then flags and environment.
    func resolve() throws -> AgentConfiguration {
        var configuration = AgentConfiguration()
        try configuration.apply(configFile: config ?? AgentConfiguration.defaultPath, required: config != nil)
        if let controller { configuration.controller = controller }
        if let controllerCa { configuration.controllerCA = controllerCa }
        if let hostID { configuration.hostID = try HostID(parsing: hostID) }
        for text in labels {
            let (key, value) = try Labels.parseAssignment(text)
            configuration.labels[key] = value
        }
        if let stateDir { configuration.stateDirectory = stateDir }
        if let heartbeat {
            let seconds = try DurationText.parseSeconds(heartbeat)
            guard (1...600).contains(seconds) else { throw InvalidInput("--heartbeat must be between 1s and 10m") }
            configuration.heartbeatSeconds = seconds
        }
        if let token = enrollToken ?? ProcessInfo.processInfo.environment["SLUICE_ENROLL_TOKEN"] { configuration.enrollToken = token }
        return configuration
    }
}
