import SluiceAgent
import SluiceCore
import Testing

@Suite("host facts: os-release, reboot-required, unattended-upgrades")
struct HostFactsTests {
    static let bookwormOSRelease = """
        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        NAME="Debian GNU/Linux"
        VERSION_ID="12"
        VERSION="12 (bookworm)"
        VERSION_CODENAME=bookworm
        ID=debian
        HOME_URL="https://www.debian.org/"
        """
    static let periodicOn = """
        APT "";
        APT::Architecture "amd64";
        APT::Periodic "";
        APT::Periodic::Update-Package-Lists "1";
        APT::Periodic::Unattended-Upgrade "1";
        """

    @Test("os-release of Debian 12 and Ubuntu 22.04, quotes removed")
    func osReleaseOfRealHosts() {
        #expect(HostFacts.parseOSRelease(Self.bookwormOSRelease) == OSRelease(
            id: "debian", versionID: "12", versionCodename: "bookworm", prettyName: "Debian GNU/Linux 12 (bookworm)"
        ))
        #expect(HostFacts.parseOSRelease(UbuntuFixtures.jammyOSRelease) == OSRelease(
            id: "ubuntu", versionID: "22.04", versionCodename: "jammy", prettyName: "Ubuntu 22.04.4 LTS"
        ))
    }

    @Test("comments, blank lines, single quotes, escapes and a missing codename")
    func osReleaseSyntax() {
        let release = HostFacts.parseOSRelease("""
            # written by hand
              ID='debian'

            PRETTY_NAME="Debian \\"trixie\\" \\$HOME"
            VERSION_ID=13
            NOT A KEY VALUE LINE
            """)
        #expect(release.id == "debian")
        #expect(release.prettyName == "Debian \"trixie\" $HOME")
        #expect(release.versionCodename == nil)
        #expect(release.versionID == "13")
    }

    @Test("missing or hostile fields fall back to os-release(5)'s defaults")
    func osReleaseDefaults() {
        #expect(HostFacts.parseOSRelease("") == OSRelease(id: "linux", versionID: nil, versionCodename: nil, prettyName: "Linux"))
        let hostile = HostFacts.parseOSRelease(
            "ID=\"deb\u{1B}[2Jian\"\nPRETTY_NAME=\"\(String(repeating: "x", count: 300))\"\nVERSION_ID=\"\u{7F}\""
        )
        #expect(hostile == OSRelease(id: "linux", versionID: nil, versionCodename: nil, prettyName: "Linux"))
    }

    @Test("reboot-required.pkgs: one name per line, deduplicated, sorted, junk skipped")
    func rebootRequiredPackages() {
        let names = HostFacts.parseRebootRequiredPackages("""
            linux-image-6.1.0-18-amd64
            libc6
            linux-image-6.1.0-18-amd64

              libssl3
            not a package; reboot
            \u{1B}[31m
            """)
        #expect(names == ["libc6", "libssl3", "linux-image-6.1.0-18-amd64"])
        let many = (0..<2_000).map { "pkg\($0)" }.joined(separator: "\n")
        #expect(HostFacts.parseRebootRequiredPackages(many).count == InventoryReport.maxRebootPackages)
    }

    @Test("apt-config values: last one wins, keys compare case-insensitively, absent is nil")
    func aptConfigValues() {
        let dump = Self.periodicOn + "\napt::periodic::unattended-upgrade \"0\";\nAPT::Broken \"no closing quote;"
        #expect(HostFacts.aptConfigValue("APT::Periodic::Unattended-Upgrade", in: dump) == "0")
        #expect(HostFacts.aptConfigValue("APT::Periodic::Update-Package-Lists", in: dump) == "1")
        #expect(HostFacts.aptConfigValue("APT::Periodic::Enable", in: dump) == nil)
        #expect(HostFacts.aptConfigValue("APT::Broken", in: dump) == nil)
    }

    @Test(
        "systemctl is-enabled answers become timer states, whatever the exit status",
        arguments: [
            (CommandResult(status: 0, stdout: "enabled\n"), HostFacts.TimerState.state("enabled")),
            (CommandResult(status: 1, stdout: "disabled\n"), .state("disabled")),
            (CommandResult(status: 1, stdout: "masked\n"), .state("masked")),
            (CommandResult(status: 0, stdout: "static\n"), .state("static")),
            (CommandResult(status: 4, stdout: "not-found\n"), .state("not-found")),
            (CommandResult(
                status: 1,
                stderr: "Failed to get unit file state for apt-daily-upgrade.timer: No such file or directory\n"
            ), .state("not-found")),
            (CommandResult(status: 1, stderr: "System has not been booted with systemd as init system (PID 1).\n"),
             .unknown("System has not been booted with systemd as init system (PID 1).")),
            (CommandResult(status: 1), .unknown("no output, status 1")),
        ]
    )
    func timerStates(result: CommandResult, expected: HostFacts.TimerState) {
        #expect(HostFacts.timerState(from: result) == expected)
    }

    @Test("unattended-upgrades is enabled only when installed, configured and its timer runs")
    func enabledOnlyWhenItWouldRun() {
        let status = HostFacts.unattendedUpgradesStatus(
            packageInstalled: true, aptConfig: .success(Self.periodicOn), timer: .state("enabled")
        )
        #expect(status == UnattendedUpgradesStatus(
            enabled: true,
            detail: "unattended-upgrades installed, APT::Periodic::Unattended-Upgrade \"1\", apt-daily-upgrade.timer enabled"
        ))
    }

    @Test(
        "each missing condition turns it off, and the detail says which",
        arguments: [
            (false, HostFactsTests.periodicOn, HostFacts.TimerState.state("enabled"), false, "unattended-upgrades not installed"),
            (true, "APT \"\";", .state("enabled"), false,
             "unattended-upgrades installed, APT::Periodic::Unattended-Upgrade not set (apt's default is \"0\")"),
            (true, "APT::Periodic::Unattended-Upgrade \"0\";", .state("enabled"), false,
             "unattended-upgrades installed, APT::Periodic::Unattended-Upgrade \"0\""),
            (true, HostFactsTests.periodicOn + "\nAPT::Periodic::Enable \"0\";", .state("enabled"), false,
             "unattended-upgrades installed, APT::Periodic::Enable \"0\""),
            (true, HostFactsTests.periodicOn, .state("masked"), false,
             "unattended-upgrades installed, APT::Periodic::Unattended-Upgrade \"1\", apt-daily-upgrade.timer masked"),
            (true, HostFactsTests.periodicOn, .state("disabled"), false,
             "unattended-upgrades installed, APT::Periodic::Unattended-Upgrade \"1\", apt-daily-upgrade.timer disabled"),
        ] as [(Bool, String, HostFacts.TimerState, Bool, String)]
    )
    func disabledStates(installed: Bool, dump: String, timer: HostFacts.TimerState, enabled: Bool, detail: String) {
        let status = HostFacts.unattendedUpgradesStatus(packageInstalled: installed, aptConfig: .success(dump), timer: timer)
        #expect(status == UnattendedUpgradesStatus(enabled: enabled, detail: detail))
    }

    @Test("with no systemd, an unreadable apt-config or an odd timer state the answer is unknown, not false")
    func unknownStates() {
        let noSystemd = HostFacts.unattendedUpgradesStatus(
            packageInstalled: true, aptConfig: .success(Self.periodicOn), timer: .noSystemd
        )
        #expect(noSystemd.enabled == nil)
        #expect(noSystemd.detail.hasSuffix("no systemd (cron may run it)"))
        let failed = HostFacts.unattendedUpgradesStatus(
            packageInstalled: true,
            aptConfig: .failure(CommandError(command: "apt-config", kind: .timedOut, description: "apt-config timed out after 30s")),
            timer: .state("enabled")
        )
        #expect(failed == UnattendedUpgradesStatus(
            enabled: nil, detail: "unattended-upgrades installed, apt-config failed: apt-config timed out after 30s"
        ))
        let indirect = HostFacts.unattendedUpgradesStatus(
            packageInstalled: true, aptConfig: .success(Self.periodicOn), timer: .state("indirect")
        )
        #expect(indirect.enabled == nil)
        let always = HostFacts.unattendedUpgradesStatus(
            packageInstalled: true, aptConfig: .success("APT::Periodic::Unattended-Upgrade \"always\";"),
            timer: .state("static")
        )
        #expect(always.enabled == true)
    }
}
