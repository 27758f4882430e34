import ArgumentParser
import SluiceAPI
import SluiceClient
import SluiceCore

struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout", abstract: "Rollouts: plan, create, follow, pause, resume, abort, revert.",
        subcommands: [Plan.self, Create.self, List.self, Status.self, Pause.self, Resume.self, Abort.self, Revert.self])

    /// `--policy NAME [--package name=version ...]`, shared by plan and create.
    struct Selection: ParsableArguments {
        @Option(help: "The policy's name (sluicectl policy check shows it).") var policy: String
        @Option(name: .customLong("package"), help: "An exact name=version to roll out (repeatable). [default: every pending candidate the policy qualifies]")
        var packages: [String] = []

        func request() throws -> CreateRolloutRequest {
            CreateRolloutRequest(policy: policy, packages: packages.isEmpty ? nil : try packages.map { try PackagePin(parsing: $0) })
        }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the plan a rollout would get, without creating it.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var selection: Selection

        func run() async throws {
            let plan = try await global.client().planRollout(try selection.request())
            try global.emit(plan) { render(plan) }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Freeze the package set, plan the waves and start the rollout.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var selection: Selection

        func run() async throws {
            let detail = try await global.client().createRollout(try selection.request())
            try global.emit(detail) { render(detail, showSimulation: true) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every rollout, newest first.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let list = try await global.client().rollouts()
            try global.emit(list) {
                renderTable(
                    ["ID", "POLICY", "STATE", "WAVE", "HOSTS", "PACKAGES", "CREATED"],
                    list.rollouts.map {
                        [
                            String($0.id), $0.policy, $0.state.rawValue, $0.currentWave ?? "-",
                            $0.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
                            $0.packages.map(\.description).joined(separator: " "), ago($0.createdAtMs),
                        ]
                    })
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One rollout: each wave, each host, and what is waiting on what.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The rollout id.") var id: Int64

        func run() async throws {
            let detail = try await global.client().rollout(id)
            try global.emit(detail) { render(detail) }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop starting hosts; a host mid-apply finishes or rolls back.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The rollout id.") var id: Int64
        @Option(help: "Why, for the audit log.") var reason: String
        func run() async throws { try await decide(global, "pause", id, DecisionRequest(reason: reason)) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Continue a paused rollout.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The rollout id.") var id: Int64
        @Option(help: "Why, for the audit log.") var reason: String
        func run() async throws { try await decide(global, "resume", id, DecisionRequest(reason: reason)) }
    }

    struct Abort: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End the rollout for good; nothing new starts.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The rollout id.") var id: Int64
        @Option(help: "Why, for the audit log.") var reason: String
        func run() async throws { try await decide(global, "abort", id, DecisionRequest(reason: reason)) }
    }

    struct Revert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reinstall the exact versions an ended rollout replaced, on each host it changed.",
            discussion: """
                Creates a revert rollout: one assignment per changed host, through the same gates as any rollout \
                (each group's max_unavailable, held restarts, validation, health). Agents reinstall from the packages \
                they saved before the apply (kept while the rollout runs and for the controller's \
                saved_package_retention after it), else from apt's sources; a host with neither refuses before \
                changing anything. Packages the apply newly installed stay installed.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The rollout to revert (completed, halted or aborted).") var id: Int64
        @Option(help: "Only this host.") var host: String?
        @Option(help: "Why, for the audit log.") var reason: String

        func run() async throws {
            let host = try self.host.map { try HostID(parsing: $0) }
            let detail = try await global.client().revertRollout(id, RevertRequest(host: host, reason: reason))
            try global.emit(detail) { render(detail) }
        }
    }
}

struct WaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wave", abstract: "Waves of a rollout.", subcommands: [Approve.self])

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a wave (default: the first pending one).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The rollout id.") var id: Int64
        @Argument(help: "The wave's name.") var wave: String?
        @Option(help: "A note for the audit log.") var reason: String?
        func run() async throws { try await decide(global, "approve", id, DecisionRequest(wave: wave, reason: reason)) }
    }
}

func decide(_ global: GlobalOptions, _ decision: String, _ id: Int64, _ request: DecisionRequest) async throws {
    let detail = try await global.client().decide(decision, rollout: id, request)
    try global.emit(detail) { render(detail) }
}

func render(_ plan: RolloutPlan) -> String {
    var out = "policy:   \(plan.policy)\npackages: \(plan.packages.map(\.description).joined(separator: " "))\n\n"
    for wave in plan.waves {
        out += "wave \(wave.name): \(wave.hosts.count) host(s) in \(wave.batches.count) batch(es)\n"
        for (i, batch) in wave.batches.enumerated() {
            out += "  batch \(i + 1): " + batch.map { "\($0.hostID) [\($0.capacityKey)]" }.joined(separator: ", ") + "\n"
        }
    }
    if !plan.included.isEmpty { out += "included by the policy (dependencies): \(plan.included.map(\.description).joined(separator: " "))\n" }
    if let simulation = plan.simulation { out += "\n" + render(simulation, set: plan.packages) }
    for warning in plan.warnings { out += "warning: \(warning)\n" }
    if let refusal = plan.refusal { out += "\nrefused: \(TerminalText.escaped(refusal))\n" }
    return out
}

/// What apt on each host would do, identical hosts together; upgrades outside the set marked.
func render(_ simulation: PlanSimulation, set: [PackagePin]) -> String {
    var out = "what apt would do (apt-get -s on each host):\n"
    let inSet = Set(set)
    for group in simulation.groups {
        out += "  \(group.hosts.map(\.description).joined(separator: ", ")):\n"
        if let error = group.error {
            out += "    apt refuses the set: \(TerminalText.escaped(error))\n"
            continue
        }
        let outside = Set(group.outside.map(\.name))
        for change in group.installs {
            let verb = change.from == nil ? "install" : "upgrade"
            let from = change.from.map { "\($0) -> " } ?? ""
            let mark = outside.contains(change.name) ? (inSet.contains(change.pin) ? "   (outside the set; included)" : "   (outside the set)") : ""
            out += "    \(verb) \(change.name) \(from)\(change.to)\(mark)\n"
        }
        for removal in group.removals { out += "    remove \(removal.name)\(removal.version.map { " \($0)" } ?? "")\n" }
        if group.installs.isEmpty && group.removals.isEmpty { out += "    nothing to change\n" }
    }
    for host in simulation.unknown { out += "  \(host.hostID): unknown, \(TerminalText.escaped(host.reason))\n" }
    return out
}

/// - Parameter showSimulation: add what apt said at creation (`rollout create` shows it; `status` does not repeat it).
func render(_ detail: RolloutDetail, showSimulation: Bool = false) -> String {
    let s = detail.summary
    var out = "rollout \(s.id): \(s.policy), \(s.state.rawValue)\(s.reason.map { " (\($0))" } ?? "")\n"
    if let original = s.revertOf { out += "reverts rollout \(original)\n" }
    out += "packages: \(s.packages.map(\.description).joined(separator: " "))\ncreated \(ago(s.createdAtMs)) by \(s.createdBy)\n\n"
    for wave in detail.waves {
        let approval = wave.approval == .manual ? (wave.approvedBy.map { ", approved by \($0)" } ?? ", needs approval") : ""
        out += "wave \(wave.name): \(wave.state.rawValue)\(approval), soak \(formatDuration(ms: wave.soakSeconds * 1000))\n"
        let byGroup = Dictionary(grouping: wave.hosts, by: \.group)
        for group in byGroup.keys.sorted() {
            out += "  \(group): " + byGroup[group]!.map { "\($0.hostID) \($0.state.rawValue)" }.joined(separator: ", ") + "\n"
        }
    }
    if showSimulation, let simulation = detail.simulation { out += "\n" + render(simulation, set: s.packages) }
    if !detail.waitingOn.isEmpty { out += "\nwaiting on:\n" + detail.waitingOn.map { "  - \($0)\n" }.joined() }
    for warning in detail.warnings { out += "warning: \(warning)\n" }
    return out
}
