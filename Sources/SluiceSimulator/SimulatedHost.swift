import Foundation
import SluiceAgent
import SluiceCore

/// One simulated host: its labels, its scripted inventory and its scripted apply outcomes.
public struct SimulatedHost: Sendable {
    public var id: String
    public var labels: [String: String]
    public var inventory: InventoryReport
    /// Per package: the outcome of an apply that contains it; others succeed.
    public var outcomes: [String: ApplyOutcome]
    /// Between two apply steps (the agent's latency).
    public var stepDelay: Duration
    /// The host stops reporting (heartbeats, polls) as soon as it is told to apply: a silent host.
    public var silentOnAssignment: Bool

    public init(
        id: String, labels: [String: String], inventory: InventoryReport, outcomes: [String: ApplyOutcome] = [:],
        stepDelay: Duration = .milliseconds(50), silentOnAssignment: Bool = false
    ) {
        self.id = id
        self.labels = labels
        self.inventory = inventory
        self.outcomes = outcomes
        self.stepDelay = stepDelay
        self.silentOnAssignment = silentOnAssignment
    }

    public var region: String { labels["region"] ?? "" }
    public var role: String { labels["role"] ?? "" }
}

/// The demo's fleet and the incident's package: bind9 1:9.18.24-1 installed, 1:9.18.28-1~deb12u2
/// (which dropped `dnssec-enable`) offered by the security archive.
public enum DemoFleet {
    public static let package = "bind9"
    public static let installedVersion = "1:9.18.24-1"
    public static let candidateVersion = "1:9.18.28-1~deb12u2"
    public static let regions = ["osc-fr1", "osc-secnum-fr1"]

    /// An inventory with bind9 pending (resolvers), or with nothing pending (app servers).
    public static func inventory(withBind: Bool) -> InventoryReport {
        let installed =
            withBind
            ? #"[{"name": "bind9", "architecture": "amd64", "version": "\#(installedVersion)", "status": "install ok installed"}]"# : "[]"
        let candidates =
            withBind
            ? #"""
            [{"name": "bind9", "architecture": "amd64", "installedVersion": "\#(installedVersion)",
              "candidateVersion": "\#(candidateVersion)",
              "origins": [{"origin": "Debian", "label": "Debian-Security", "archive": "stable-security", "codename": "bookworm-security"}]}]
            """# : "[]"
        let json = """
            {"agentVersion": "0.1.0-sim", "rebootRequired": false, "rebootRequiredPackages": [],
             "os": {"id": "debian", "versionID": "12", "versionCodename": "bookworm", "prettyName": "Debian GNU/Linux 12 (bookworm)"},
             "unattendedUpgrades": {"enabled": false, "detail": "disabled by Sluice"},
             "installed": \(installed), "candidates": \(candidates)}
            """
        // The text above is a constant of this file: it always decodes.
        return try! JSONDecoder().decode(InventoryReport.self, from: Data(json.utf8))
    }

    /// One test resolver (its config already cleaned of the dropped option), two production
    /// resolvers per region (still using it: config drift), and `appServers` app servers
    /// spread over the regions. `brokenOutcome` is what the update does to a production resolver.
    public static func hosts(appServers: Int, brokenOutcome: ApplyOutcome?, stepDelay: Duration = .milliseconds(40)) -> [SimulatedHost] {
        var hosts: [SimulatedHost] = [
            SimulatedHost(
                id: "test1", labels: ["environment": "test", "role": "dns-resolver", "region": "lab"], inventory: inventory(withBind: true),
                stepDelay: stepDelay)
        ]
        for region in regions {
            for n in 1...2 {
                hosts.append(
                    SimulatedHost(
                        id: "dns\(n).\(region)", labels: ["environment": "production", "role": "dns-resolver", "region": region],
                        inventory: inventory(withBind: true), outcomes: brokenOutcome.map { [package: $0] } ?? [:], stepDelay: stepDelay))
            }
        }
        for n in 0..<max(0, appServers) {
            let region = regions[n % regions.count]
            hosts.append(
                SimulatedHost(
                    id: "app\(n / regions.count + 1).\(region)", labels: ["environment": "production", "role": "app", "region": region],
                    inventory: inventory(withBind: false), stepDelay: stepDelay))
        }
        return hosts
    }

    /// The same fleet, as the unattended-upgrades model sees it: the update breaks every
    /// production resolver (their config still has `dnssec-enable`) when `breaks` is true.
    public static func modelHosts(_ hosts: [SimulatedHost], breaks: Bool) -> [UnattendedUpgradesModel.Host] {
        hosts.map { h in
            let hasBind = h.inventory.installed.contains { $0.name.description == package }
            return UnattendedUpgradesModel.Host(
                id: h.id, region: h.region, role: h.role, hasPackage: hasBind,
                configUsesDroppedOption: breaks && hasBind && h.labels["environment"] == "production")
        }
    }
}
