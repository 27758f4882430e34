import Foundation
import SluiceAgent
import SluiceCore
import Testing

@Suite("SystemInventory joining dpkg, apt-get -s and apt-cache policy")
struct SystemInventoryTests {
    static let dpkgQuery = ["dpkg-query"] + DpkgQueryParser.arguments
    static let simulate = ["apt-get"] + AptSimulationParser.arguments
    static let bookwormNames = [
        "gcc-12-base", "gcc-12-base:i386", "libc6", "libc6:i386", "libcap2", "libcap2:i386", "libgcrypt20", "zlib1g",
        "tzdata", "libssl3", "openssh-client", "sluice-demo-tool",
    ]
    static let debianMain = PackageOrigin(
        origin: "Debian", label: "Debian", archive: "oldstable", codename: "bookworm", component: "main",
        site: "deb.debian.org"
    )
    static let debianSecurity = PackageOrigin(
        origin: "Debian", label: "Debian-Security", archive: "oldstable-security", codename: "bookworm-security",
        component: "main", site: "deb.debian.org"
    )

    /// A temporary directory standing in for `/`, removed when the test ends.
    final class FileRoot {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-root-\(UUID().uuidString)").path
        init(_ files: [String: String]) throws {
            for (relative, contents) in files {
                let url = URL(fileURLWithPath: path).appendingPathComponent(relative)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(contents.utf8).write(to: url)
            }
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    private func bookwormRunner(policy: String = DebianFixtures.bookwormPackagePolicy) -> ScriptedRunner {
        ScriptedRunner([
            Self.dpkgQuery: .ok(DebianFixtures.bookwormDpkg),
            Self.simulate: .ok(DebianFixtures.bookwormSimulation),
            ["apt-cache", "policy"]: .ok(DebianFixtures.bookwormPolicy),
            ["apt-cache", "policy", "--"] + Self.bookwormNames: .ok(policy),
        ])
    }

    private func candidate(_ report: InventoryReport, _ name: String, _ arch: String = "amd64") throws -> UpgradeCandidate {
        try #require(report.candidates.first { $0.name.rawValue == name && $0.architecture.rawValue == arch })
    }

    @Test("bookworm: candidates carry every origin field from apt-cache policy, security marked both ways")
    func bookwormCandidatesHaveFullOrigins() async throws {
        let root = try FileRoot(["etc/os-release": HostFactsTests.bookwormOSRelease])
        let runner = bookwormRunner()
        let snapshot = try await SystemInventory(agentVersion: "0.1.0", runner: runner, fileRoot: root.path).snapshot()
        let report = snapshot.report
        #expect(report.installed.count == 12)
        #expect(report.candidates.count == 12)
        let gcrypt = try candidate(report, "libgcrypt20")
        #expect(gcrypt.origins == [Self.debianMain, Self.debianSecurity])
        #expect(gcrypt.isSecurity)
        #expect(try candidate(report, "tzdata", "all").origins == [Self.debianSecurity])
        #expect(try candidate(report, "libc6", "i386").origins == [
            PackageOrigin(origin: "Debian", label: "Debian", archive: "oldstable", codename: "bookworm",
                          component: "main", site: "deb.debian.org"),
        ])
        #expect(!(try candidate(report, "libc6", "i386")).isSecurity)
        let ssh = try candidate(report, "openssh-client")
        #expect(ssh.origins.map(\.archive) == ["oldstable-updates"] && !ssh.isSecurity)
        #expect(ssh.installedVersion?.description == "1:9.2p1-2+deb12u5")
        let tool = try candidate(report, "sluice-demo-tool")
        #expect(tool.origins == [PackageOrigin(
            origin: "LP-PPA-sluice-demo", label: "Sluice Demo Tools, nightly", archive: "jammy", codename: "jammy"
        )])
        #expect(try candidate(report, "gcc-12-base", "i386").installedVersion == nil)
        #expect(snapshot.removals.map(\.name.rawValue) == ["legacy-agent"])
        #expect(report.os.id == "debian")
        #expect(report.unattendedUpgrades == UnattendedUpgradesStatus(enabled: false, detail: "unattended-upgrades not installed"))
        #expect(runner.calls.map(\.executable) == ["dpkg-query", "apt-get", "apt-cache", "apt-cache"])
    }

    @Test("a source apt-cache policy cannot match falls back to the label and archive of the Inst line")
    func fallsBackToInstLine() async throws {
        let root = try FileRoot([:])
        let report = try await SystemInventory(
            agentVersion: "0.1.0", runner: bookwormRunner(policy: "N: Unable to locate package"), fileRoot: root.path
        ).collect()
        let gcrypt = try candidate(report, "libgcrypt20")
        #expect(gcrypt.origins == [
            PackageOrigin(label: "Debian", archive: "oldstable"),
            PackageOrigin(label: "Debian-Security", archive: "oldstable-security"),
        ])
        #expect(gcrypt.isSecurity)
        #expect(!(try candidate(report, "libc6")).isSecurity)
    }

    @Test("Ubuntu 22.04: -updates plus -security is a security update, -updates alone is not, PPA origin kept")
    func jammyCandidates() async throws {
        let names = ["libssl3", "openssl", "bind9-libs", "bind9", "linux-image-5.15.0-91-generic", "linux-generic",
                     "snapd", "python3.12"]
        let runner = ScriptedRunner([
            Self.dpkgQuery: .ok("bash\tamd64\t5.1-6ubuntu1\tinstall ok installed"),
            Self.simulate: .ok(UbuntuFixtures.jammySimulation),
            ["apt-cache", "policy"]: .ok(UbuntuFixtures.jammyPolicy),
            ["apt-cache", "policy", "--"] + names: .ok(UbuntuFixtures.jammyPackagePolicy),
        ])
        let root = try FileRoot(["etc/os-release": UbuntuFixtures.jammyOSRelease])
        let report = try await SystemInventory(agentVersion: "0.1.0", runner: runner, fileRoot: root.path).collect()
        let openssl = try candidate(report, "openssl")
        #expect(openssl.origins.map(\.archive) == ["jammy-updates", "jammy-security"])
        #expect(openssl.origins.map(\.site) == ["archive.ubuntu.com", "security.ubuntu.com"])
        #expect(openssl.origins.allSatisfy { $0.codename == "jammy" && $0.origin == "Ubuntu" && $0.component == "main" })
        #expect(openssl.isSecurity)
        #expect(try candidate(report, "bind9-libs").candidateVersion.description == "1:9.18.28-0ubuntu0.22.04.1")
        #expect(!(try candidate(report, "snapd")).isSecurity)
        // bind9 was not in the policy output: the Inst line's releases stand in.
        #expect(try candidate(report, "bind9").origins.map(\.archive) == ["jammy-updates", "jammy-security"])
        let python = try candidate(report, "python3.12")
        #expect(python.origins.first?.origin == "LP-PPA-deadsnakes" && !python.isSecurity)
        #expect(report.os == OSRelease(id: "ubuntu", versionID: "22.04", versionCodename: "jammy", prettyName: "Ubuntu 22.04.4 LTS"))
    }

    @Test("Ubuntu 24.04: the i386 libc6 is matched to the i386 index, tzdata [all] to both")
    func nobleMultiArch() async throws {
        let names = ["libc6", "libc6:i386", "tzdata", "curl", "linux-image-6.8.0-63-generic"]
        let runner = ScriptedRunner([
            Self.dpkgQuery: .ok("libc6\ti386\t2.39-0ubuntu8.3\tinstall ok installed"),
            Self.simulate: .ok(UbuntuFixtures.nobleSimulation),
            ["apt-cache", "policy"]: .ok(UbuntuFixtures.noblePolicy),
            ["apt-cache", "policy", "--"] + names: .ok(UbuntuFixtures.noblePackagePolicy),
        ])
        let report = try await SystemInventory(agentVersion: "0.1.0", runner: runner, fileRoot: try FileRoot([:]).path).collect()
        let libc = try candidate(report, "libc6", "i386")
        #expect(libc.origins.map(\.archive) == ["noble-updates", "noble-security"] && libc.isSecurity)
        #expect(try candidate(report, "tzdata", "all").origins.count == 2, "amd64 and i386 indexes give the same origins")
        #expect(!(try candidate(report, "curl")).isSecurity)
    }

    @Test("a failing command is one line with its exit status and first stderr line")
    func commandFailureMessage() async throws {
        let runner = ScriptedRunner([
            Self.dpkgQuery: .ok(DebianFixtures.bookwormDpkg),
            Self.simulate: CommandResult(
                status: 100, stdout: "Reading package lists...\n",
                stderr: "E: The package brokenpkg needs to be reinstalled, but I can't find an archive for it.\nE: more\n"
            ),
        ])
        let error = try await #require(throws: CommandError.self) {
            try await SystemInventory(agentVersion: "0.1.0", runner: runner).collect()
        }
        #expect(error.description
            == "apt-get -s dist-upgrade exited with status 100: E: The package brokenpkg needs to be reinstalled, but I can't find an archive for it.")
        #expect(error.kind == .failed(status: 100))
    }

    @Test("dpkg-query missing from PATH is reported as such")
    func missingDpkgQuery() async throws {
        let error = try await #require(throws: CommandError.self) {
            try await SystemInventory(agentVersion: "0.1.0", runner: ScriptedRunner([:])).collect()
        }
        #expect(error.description == "cannot run \"dpkg-query\": not found on PATH")
    }

    @Test("nothing to upgrade: apt-cache is not run and there are no candidates")
    func nothingToUpgrade() async throws {
        let runner = ScriptedRunner([
            Self.dpkgQuery: .ok(DebianFixtures.hostDpkg),
            Self.simulate: .ok("Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded."),
        ])
        let report = try await SystemInventory(agentVersion: "0.1.0", runner: runner, fileRoot: try FileRoot([:]).path).collect()
        #expect(report.candidates.isEmpty && report.installed.count == 10)
        #expect(!runner.calls.contains { $0.executable == "apt-cache" })
    }

    @Test("reboot-required and its package list are read below fileRoot")
    func rebootRequiredBelowFileRoot() async throws {
        let runner = ScriptedRunner([Self.dpkgQuery: .ok(DebianFixtures.hostDpkg), Self.simulate: .ok("")])
        let root = try FileRoot([
            "var/run/reboot-required": "*** System restart required ***\n",
            "var/run/reboot-required.pkgs": "linux-image-6.1.0-18-amd64\nlibc6\nlibc6\n",
            "usr/lib/os-release": "ID=debian\nPRETTY_NAME=\"from usr/lib\"\n",
        ])
        let report = try await SystemInventory(agentVersion: "0.1.0", runner: runner, fileRoot: root.path).collect()
        #expect(report.rebootRequired)
        #expect(report.rebootRequiredPackages == ["libc6", "linux-image-6.1.0-18-amd64"])
        #expect(report.os.prettyName == "from usr/lib", "/usr/lib/os-release is the fallback")
        let clean = try await SystemInventory(agentVersion: "0.1.0", runner: runner, fileRoot: try FileRoot([:]).path).collect()
        #expect(!clean.rebootRequired && clean.rebootRequiredPackages.isEmpty)
    }

    @Test("unattended-upgrades installed: apt-config and systemctl decide, through the runner")
    func unattendedUpgradesThroughRunner() async throws {
        let dpkg = DebianFixtures.hostDpkg + "\nunattended-upgrades\tall\t2.9.1+nmu3\tinstall ok installed"
        var script: [[String]: CommandResult] = [
            Self.dpkgQuery: .ok(dpkg), Self.simulate: .ok(""),
            ["apt-config", "dump"]: .ok(HostFactsTests.periodicOn),
            ["systemctl", "is-enabled", "apt-daily-upgrade.timer"]: .ok("enabled"),
        ]
        let root = try FileRoot([:])
        let on = try await SystemInventory(agentVersion: "0.1.0", runner: ScriptedRunner(script), fileRoot: root.path).collect()
        #expect(on.unattendedUpgrades.enabled == true)
        script[["systemctl", "is-enabled", "apt-daily-upgrade.timer"]] = nil
        let noSystemd = try await SystemInventory(agentVersion: "0.1.0", runner: ScriptedRunner(script), fileRoot: root.path).collect()
        #expect(noSystemd.unattendedUpgrades.enabled == nil)
        #expect(noSystemd.unattendedUpgrades.detail.contains("no systemd"))
    }

    @Test("more than 256 upgradable packages are asked about in batches")
    func policyIsBatched() async throws {
        let names = (0..<300).map { "pkg\($0)" }
        let simulation = names.map { "Inst \($0) [1.0] (1.1 Debian:12/stable [amd64])" }.joined(separator: "\n")
        var script: [[String]: CommandResult] = [
            Self.dpkgQuery: .ok(""), Self.simulate: .ok(simulation), ["apt-cache", "policy"]: .ok(""),
        ]
        script[["apt-cache", "policy", "--"] + names.prefix(256)] = .ok("")
        script[["apt-cache", "policy", "--"] + names.dropFirst(256)] = .ok("")
        let runner = ScriptedRunner(script)
        let report = try await SystemInventory(agentVersion: "0.1.0", runner: runner, fileRoot: try FileRoot([:]).path).collect()
        #expect(report.candidates.count == 300)
        #expect(runner.calls.filter { $0.arguments.first == "policy" }.map(\.arguments.count) == [1, 258, 46])
    }
}
