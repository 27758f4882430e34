import ArgumentParser
import SluiceAPI
import SluiceClient
import SluiceCore

struct HostsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosts", abstract: "The enrolled hosts.", subcommands: [List.self, Show.self, Resolve.self, Revoke.self, LabelsCommand.self],
        defaultSubcommand: List.self)

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Declare a host's failed updates dealt with, so its redundancy group may proceed again.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The host id.") var host: String
        @Option(help: "What was done, for the audit log.") var reason: String

        func run() async throws {
            let answer = try await global.client().resolve(host: try HostID(parsing: host), reason: reason)
            try global.emit(answer) { "resolved \(answer.resolved) failed assignment(s) of \(answer.hostID)\n" }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every host: id, labels, last seen, pending (security) updates, warnings.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let list = try await global.client().listHosts()
            try global.emit(list) {
                renderTable(
                    ["HOST", "LABELS", "LAST SEEN", "PENDING", "SECURITY", "WARNINGS"],
                    list.hosts.map {
                        [
                            $0.id.description, $0.labels.description.isEmpty ? "-" : $0.labels.description, ago($0.lastSeenAtMs),
                            String($0.pendingUpdates), String($0.pendingSecurityUpdates),
                            $0.warnings.isEmpty ? "-" : $0.warnings.joined(separator: "; "),
                        ]
                    })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One host: its facts, upgradable packages and their origins.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The host id.") var host: String
        @Flag(help: "Also list every installed package.") var installed = false

        func run() async throws {
            let id = try HostID(parsing: host)
            let detail = try await global.client().host(id)
            try global.emit(detail) {
                let s = detail.summary
                var out = """
                    host:        \(s.id)
                    labels:      \(s.labels.description.isEmpty ? "-" : s.labels.description)
                    os:          \(s.os?.prettyName ?? "unknown")
                    agent:       \(s.agentVersion ?? "unknown")
                    last seen:   \(ago(s.lastSeenAtMs))
                    reboot:      \(s.rebootRequired ? "required (\(detail.rebootRequiredPackages.joined(separator: ", ")))" : "not required")
                    unattended:  \(s.unattendedUpgrades.map { ($0.enabled == true ? "ENABLED: " : "") + $0.detail } ?? "unknown")
                    pending:     \(s.pendingUpdates) (\(s.pendingSecurityUpdates) security)

                    """
                for warning in s.warnings { out += "warning:     \(warning)\n" }
                out += "\n"
                out += renderTable(
                    ["PACKAGE", "ARCH", "INSTALLED", "CANDIDATE", "SECURITY", "ORIGINS"],
                    detail.candidates.map { c in
                        [
                            c.name.description, c.architecture.description, c.installedVersion?.description ?? "(new)",
                            c.candidateVersion.description, c.isSecurity ? "yes" : "no",
                            c.origins.map { "\($0.label ?? $0.origin ?? "?")/\($0.archive ?? $0.codename ?? "?")" }.joined(separator: ", "),
                        ]
                    })
                if installed {
                    out += "\n" + renderTable(
                        ["INSTALLED", "ARCH", "VERSION", "STATUS"],
                        detail.installed.map { [$0.name.description, $0.architecture.description, $0.version.description, $0.status] })
                }
                return out
            }
        }
    }
}

struct UpdatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "updates", abstract: "Pending updates across the fleet: package, version, origin, security, hosts.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let list = try await global.client().updates()
        try global.emit(list) {
            renderTable(
                ["PACKAGE", "VERSION", "SECURITY", "HOSTS", "ORIGINS"],
                list.updates.map {
                    [$0.name.description, $0.version.description, $0.isSecurity ? "yes" : "no", String($0.hosts), $0.origins.joined(separator: ", ")]
                })
        }
    }
}
