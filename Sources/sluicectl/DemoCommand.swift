import ArgumentParser
import Foundation
import SluiceAPI
import SluiceClient
import SluiceCore
import SluiceSimulator
import SluiceStore

enum DemoScenario: String, ExpressibleByArgument, CaseIterable {
    /// SPM-2024-003: the bind9 update refuses the production resolvers' config.
    case incident
    /// The update is fine: every wave passes.
    case clean
    /// The update installs and validates but the resolver fails its health checks after the restart.
    case healthFailure = "health-failure"
    /// The first canary resolver stops reporting as soon as it is told to apply.
    case silentHost = "silent-host"
    /// A clean update, paused by the operator mid-rollout and resumed.
    case pause
}

/// `sluicectl demo`: a real sluiced on loopback, a simulated fleet speaking the real API, the
/// incident replayed on a compressed clock, then the same fleet under unattended-upgrades.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Replay the SPM-2024-003 bind9 incident against a real sluiced and a simulated fleet, and compare with unattended-upgrades.",
        discussion: """
            Starts the sluiced beside this sluicectl on a free loopback port with a temporary SQLite \
            file, enrolls a simulated fleet over the real HTTP API (two regions with two DNS resolvers \
            each, a test resolver, app servers), rolls out the bind9 update, approves the manual waves \
            as the demo operator, and prints the comparison with the unattended-upgrades model. \
            Everything it creates is removed when it ends.

            On a terminal it redraws a board in place a few times a second: the rollout, each wave, \
            each redundancy group with each host's state, and the last lines of the log; large \
            fleets are summarised as counts per state. When stdout is not a terminal, with --plain, \
            or with NO_COLOR set or TERM=dumb, it prints a plain log of every state change instead.
            """)

    @Option(help: "incident, clean, health-failure, silent-host or pause.") var scenario: DemoScenario = .incident
    @Option(help: "Hosts in the fleet (at least 5: the test resolver and four production resolvers; the rest are app servers).")
    var hosts: Int = 40
    @Option(help: "Seed of the unattended-upgrades model's randomized timer delays.") var seed: UInt64 = 1
    @Option(help: "Give up after this many seconds.") var timeout: Int = 120
    @Flag(help: "Print the plain log of state changes even on a terminal, instead of the live board.") var plain = false

    func validate() throws {
        guard hosts >= 5 else { throw ValidationError("--hosts must be at least 5 (the test resolver and two resolvers in each of two regions)") }
        guard hosts <= 10_000 else { throw ValidationError("--hosts is limited to 10000 in the demo") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let screen = DemoScreen(plain: plain)
        let demo = try DemoController.start()
        DemoController.installSignalCleanup(demo, screen: screen)
        do {
            try await DemoRun(scenario: scenario, hostCount: hosts, seed: seed, timeout: timeout, controller: demo, screen: screen).run()
            demo.cleanUp()
        } catch {
            // The board's last frame stays on screen, and the error prints below it.
            screen.finish()
            demo.cleanUp()
            throw error
        }
    }
}
