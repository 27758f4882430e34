import Foundation
import SluiceAgent
import SluiceCore
import Testing

/// The one test that reads the real machine: `dpkg-query`, `apt-get -s dist-upgrade` and
/// `apt-cache policy` through ``SubprocessRunner``. All of them are read-only (`-s` even
/// turns off apt's locking), so it is safe on any Debian or Ubuntu host.
@Suite("inventory of this machine")
struct LiveInventoryTests {
    @Test(
        "the real dpkg and apt give a consistent report: dpkg is installed, candidates are newer, origins known",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-query"), "needs a dpkg-based host"),
        .timeLimit(.minutes(5))
    )
    func inventoryOfThisMachine() async throws {
        let inventory = SystemInventory(agentVersion: "test", runner: SubprocessRunner())
        let snapshot = try await inventory.snapshot()
        let report = snapshot.report
        try report.validate()

        #expect(!report.installed.isEmpty)
        let dpkg = try #require(report.installed.first { $0.name.rawValue == "dpkg" }, "dpkg itself is installed")
        #expect(dpkg.status.hasSuffix(" installed"))

        let installedByKey = Dictionary(report.installed.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        for candidate in report.candidates {
            if let installed = candidate.installedVersion {
                #expect(installed < candidate.candidateVersion, "\(candidate.key): \(installed) -> \(candidate.candidateVersion)")
                if let dpkgEntry = installedByKey[candidate.key] {
                    #expect(dpkgEntry.version.compare(installed) == 0, "apt and dpkg agree on \(candidate.key)")
                }
            } else {
                #expect(installedByKey[candidate.key] == nil, "\(candidate.key) is new, so dpkg must not list it")
            }
            #expect(!candidate.origins.isEmpty, "\(candidate.key) has an origin")
        }

        if !report.candidates.isEmpty {
            // Only apt-cache policy supplies codenames; the Inst-line fallback never does.
            #expect(report.candidates.contains { $0.origins.contains { $0.codename != nil } }, "origins came from apt-cache policy")
        }

        let osRelease = try String(contentsOfFile: "/etc/os-release", encoding: .utf8)
        #expect(osRelease.contains("ID=\(report.os.id)\n") || osRelease.contains("ID=\"\(report.os.id)\"\n"))
        let hasUnattendedUpgrades = report.installed.contains { $0.name.rawValue == "unattended-upgrades" }
        if !hasUnattendedUpgrades { #expect(report.unattendedUpgrades.enabled == false) }
    }
}
