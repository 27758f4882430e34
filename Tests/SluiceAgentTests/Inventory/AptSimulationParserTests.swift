import SluiceAgent
import SluiceCore
import Testing

@Suite("apt-get -s dist-upgrade output")
struct AptSimulationParserTests {
    private func install(_ simulation: AptSimulation, _ aptName: String) throws -> SimulatedInstall {
        try #require(simulation.installs.first { $0.aptName == aptName })
    }

    private func origin(_ label: String, _ archive: String) -> PackageOrigin {
        PackageOrigin(label: label, archive: archive)
    }

    private func isSecurity(_ install: SimulatedInstall) -> Bool {
        install.releases.contains { $0.isSecurity }
    }

    @Test("the argument vector simulates dist-upgrade without the user simulation note")
    func argumentVector() {
        #expect(AptSimulationParser.arguments == [
            "-s", "-q", "-o", "APT::Get::Show-User-Simulation-Note=false", "dist-upgrade",
        ])
    }

    @Test("bookworm: every Inst line becomes a candidate and Conf lines and headers are ignored")
    func bookwormInstallsAndRemovals() throws {
        let simulation = try AptSimulationParser.parse(DebianFixtures.bookwormSimulation)
        #expect(simulation.installs.map(\.aptName) == [
            "gcc-12-base", "gcc-12-base:i386", "libc6", "libc6:i386", "libcap2", "libcap2:i386", "libgcrypt20",
            "zlib1g", "tzdata", "libssl3", "openssh-client", "sluice-demo-tool",
        ])
        #expect(simulation.removals == [
            SimulatedRemoval(
                name: try PackageName(parsing: "legacy-agent"), qualifier: nil,
                installedVersion: try DebianVersion(parsing: "0.9-1"), purge: false
            )
        ])
    }

    @Test("a new dependency has no installed version; an upgrade has the one apt printed in brackets")
    func newDependencyVersusUpgrade() throws {
        let simulation = try AptSimulationParser.parse(DebianFixtures.bookwormSimulation)
        let zlib = try install(simulation, "zlib1g")
        #expect(zlib.installedVersion == nil)
        #expect(zlib.candidateVersion.description == "1:1.2.13.dfsg-1")
        let libc = try install(simulation, "libc6")
        #expect(libc.installedVersion?.description == "2.36-9+deb12u4")
        #expect(libc.candidateVersion.description == "2.36-9+deb12u14")
    }

    @Test("a foreign-architecture package keeps its :i386 qualifier and its [i386] architecture")
    func multiArchQualifier() throws {
        let simulation = try AptSimulationParser.parse(DebianFixtures.bookwormSimulation)
        let native = try install(simulation, "libcap2")
        let foreign = try install(simulation, "libcap2:i386")
        #expect(native.qualifier == nil && native.architecture.rawValue == "amd64")
        #expect(foreign.qualifier?.rawValue == "i386" && foreign.architecture.rawValue == "i386")
        #expect(foreign.name == native.name)
        #expect(try #require(foreign.installedVersion) < foreign.candidateVersion, "1:2.66-4 < 1:2.66-4+deb12u3+b1")
        #expect(try install(simulation, "tzdata").architecture.rawValue == "all")
    }

    @Test("release strings become label and archive, and security marking holds both ways")
    func releasesAndSecurity() throws {
        let simulation = try AptSimulationParser.parse(DebianFixtures.bookwormSimulation)
        let gcrypt = try install(simulation, "libgcrypt20")
        #expect(gcrypt.releases == [origin("Debian", "oldstable"), origin("Debian-Security", "oldstable-security")])
        #expect(isSecurity(gcrypt))
        #expect(try install(simulation, "libssl3").releases == [origin("Debian-Security", "oldstable-security")])
        let ssh = try install(simulation, "openssh-client")
        #expect(ssh.releases == [origin("Debian", "oldstable-updates")])
        #expect(!isSecurity(ssh), "bookworm-updates is not a security archive")
        #expect(!isSecurity(try install(simulation, "libc6")))
    }

    @Test("a PPA label containing \", \" stays one release")
    func labelWithCommaStaysWhole() throws {
        let simulation = try AptSimulationParser.parse(DebianFixtures.bookwormSimulation)
        let tool = try install(simulation, "sluice-demo-tool")
        #expect(tool.releases == [origin("Sluice Demo Tools, nightly", "jammy")])
        #expect(tool.candidateVersion.epoch == 2)
        let ppa = try AptSimulationParser.parse(
            "Inst python3.12 (3.12.3-1+jammy1 New Python Versions:22.04/jammy, Ubuntu:22.04/jammy [amd64])"
        )
        #expect(ppa.installs.first?.releases == [origin("New Python Versions", "jammy"), origin("Ubuntu", "jammy")])
    }

    @Test("trailing [] groups and apt's broken-package notes after the candidate are ignored")
    func trailingGroupsAreIgnored() throws {
        let simulation = try AptSimulationParser.parse(DebianFixtures.hostSimulation)
        #expect(simulation.installs.map(\.aptName) == [
            "libgcrypt20-dev", "liblzma5", "systemd-timesyncd", "libpam-modules-bin", "libpam-modules", "dpkg",
            "libperl5.36", "openssh-client",
        ])
        let pam = try install(simulation, "libpam-modules-bin")
        #expect(pam.releases == [origin("Debian-Security", "oldstable-security")])
        #expect(pam.architecture.rawValue == "amd64")
    }

    @Test("the shapes named in the design: stable-security, two origins for [all], and a trailing []")
    func designExamples() throws {
        let simulation = try AptSimulationParser.parse("""
            Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])
            Inst tzdata [2025a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable, Debian-Security:12/stable-security [all])
            Inst foo [1.0] (1.1 Debian:12/stable [amd64]) []
            Inst bind9 [1:9.18.24-1] (1:9.18.28-1~deb12u2 Debian-Security:12/stable-security [amd64])
            """)
        #expect(isSecurity(try install(simulation, "libssl3")))
        #expect(try install(simulation, "tzdata").releases == [origin("Debian", "stable"), origin("Debian-Security", "stable-security")])
        #expect(try install(simulation, "foo").releases == [origin("Debian", "stable")])
        #expect(try install(simulation, "bind9").candidateVersion.description == "1:9.18.28-1~deb12u2")
    }

    @Test("Ubuntu: a package in both -updates and -security is a security update; -updates alone is not")
    func ubuntuPockets() throws {
        let jammy = try AptSimulationParser.parse(UbuntuFixtures.jammySimulation)
        let openssl = try install(jammy, "openssl")
        #expect(openssl.releases == [origin("Ubuntu", "jammy-updates"), origin("Ubuntu", "jammy-security")])
        #expect(isSecurity(openssl))
        #expect(!isSecurity(try install(jammy, "snapd")))
        #expect(try install(jammy, "linux-image-5.15.0-91-generic").installedVersion == nil)
        let noble = try AptSimulationParser.parse(UbuntuFixtures.nobleSimulation)
        #expect(isSecurity(try install(noble, "libc6:i386")))
        #expect(!isSecurity(try install(noble, "curl")))
    }

    @Test("a candidate no release names (local or status-only) has no releases")
    func candidateWithoutRelease() throws {
        let simulation = try AptSimulationParser.parse("Inst localpkg [1.0] (1.1  [amd64])")
        #expect(simulation.installs.first?.releases == [])
        #expect(simulation.installs.first?.candidateVersion.description == "1.1")
    }

    @Test("Remv and Purg lines are reported as removals, with their architecture qualifier")
    func removals() throws {
        let simulation = try AptSimulationParser.parse("""
            Remv legacy-agent [0.9-1]
            Purg libfoo1:i386 [2.0-1] [libbar:i386 ]
            Remv legacy-agent [0.9-1]
            """)
        #expect(simulation.removals.count == 2)
        #expect(simulation.removals.last?.qualifier?.rawValue == "i386")
        #expect(simulation.removals.last?.purge == true)
    }

    @Test("a package listed twice keeps its first Inst line")
    func duplicateInstKeepsFirst() throws {
        let simulation = try AptSimulationParser.parse("""
            Inst foo [1.0] (1.1 Debian:12/stable [amd64])
            Inst foo [1.0] (1.2 Debian:12/stable [amd64])
            """)
        #expect(simulation.installs.map(\.candidateVersion.description) == ["1.1"])
    }

    @Test("lines that are not Inst, Remv or Purg are ignored, garbage included")
    func otherLinesAreIgnored() throws {
        let simulation = try AptSimulationParser.parse("""
            NOTE: This is only a simulation!
            Installing foo (this is not an Inst line)
            Conf foo (1.1 Debian:12/stable [amd64])
            \u{1B}[31mgarbage\u{0}
            E: something
            """)
        #expect(simulation == AptSimulation())
    }

    @Test(
        "an unreadable Inst or Remv line is an error naming the line, never skipped",
        arguments: [
            "Inst",
            "Inst ",
            "Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Sec",
            "Inst libssl3 [3.0.11-1~deb12u1",
            "Inst libssl3 [3.0.11-1~deb12u1] 3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64]",
            "Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security)",
            "Inst libssl3 (3.0.11-1~deb12u2 Debian:12/stable [amd64]) trailing words",
            "Inst foo;reboot [1.0] (1.1 Debian:12/stable [amd64])",
            "Inst $(curl evil) (1.1 Debian:12/stable [amd64])",
            "Inst foo:i386;id [1.0] (1.1 Debian:12/stable [i386])",
            "Inst foo [1.0`id`] (1.1 Debian:12/stable [amd64])",
            "Inst foo [1.0] (1.1|sh Debian:12/stable [amd64])",
            "Inst foo [1.0] (1.1 Debian:12/stable [amd 64])",
            "Remv",
            "Remv foo [1.0] rm -rf /",
            "Purg FOO [1.0]",
        ]
    )
    func unreadableLinesAreErrors(line: String) {
        #expect {
            try AptSimulationParser.parse("Reading package lists...\n" + line)
        } throws: { error in
            guard let error = error as? InventoryParseError else { return false }
            return error.line == 2 && error.description.hasPrefix("apt-get -s dist-upgrade line 2: unreadable")
                && !error.description.contains("\n")
        }
    }

    @Test("an absurdly long Inst line is refused by length")
    func absurdlyLongLine() {
        let line = "Inst foo [1.0] (1.1 Debian:12/stable [amd64])" + String(repeating: " []", count: 100_000)
        #expect(throws: InventoryParseError.self) { try AptSimulationParser.parse(line) }
    }
}
