import Foundation
import SluiceCore
import Testing

@testable import SluiceYAML

/// `Fixtures/unattended-upgrades/`: the files Debian's and Ubuntu's packages ship (see its README).
private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/unattended-upgrades").path

/// A candidate of `name` whose only origin has these release-file fields.
private func offered(_ name: String, origin: String, label: String, archive: String, codename: String) -> UpgradeCandidate {
    UpgradeCandidate(
        name: try! PackageName(parsing: name), architecture: try! Architecture(parsing: "amd64"), installedVersion: DebianVersion("1.0"),
        candidateVersion: DebianVersion("1.1")!,
        origins: [PackageOrigin(origin: origin, label: label, archive: archive, codename: codename, component: "main")])
}

/// The printed YAML, checked as `sluicectl policy check` checks a file.
private func checkedAsAFile(_ yaml: String) throws -> Policy {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("import-uu-\(UUID().uuidString).yaml").path
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try PolicyLoader.loadFile(path)
}

/// What unattended-upgrades does by default and Sluice does not: reported for every file that keeps it.
private let removalDefaults = [
    "not translated: Unattended-Upgrade::Remove-New-Unused-Dependencies = \"true\": unattended-upgrades' default, which the file keeps: the agent never removes packages (a set whose install would remove one is refused); run apt-get autoremove by other means",
    "not translated: Unattended-Upgrade::Remove-Unused-Kernel-Packages = \"true\": unattended-upgrades' default, which the file keeps: the agent never removes packages (a set whose install would remove one is refused); run apt-get autoremove by other means",
]

/// Lines that turn those defaults off, so that a file's own findings stand alone.
private let noRemovals = """
    Unattended-Upgrade::Remove-New-Unused-Dependencies "false";
    Unattended-Upgrade::Remove-Unused-Kernel-Packages "false";

    """

@Suite("unattended-upgrades import")
struct UnattendedUpgradesImportTests {
    @Test func debiansShippedFileTranslatesAndOnlyItsDefaultRemovalsAreLeftOut() throws {
        let result = try UnattendedUpgradesImport.translateFile(fixtures + "/50unattended-upgrades.Debian")
        #expect(result.findings.map(\.description) == removalDefaults)
        let policy = try checkedAsAFile(result.yaml)
        #expect(policy == result.policy)
        #expect(
            policy.qualify.origins == [
                OriginPattern(origin: "Debian", label: "Debian", codename: "${distro_codename}"),
                OriginPattern(origin: "Debian", label: "Debian-Security", codename: "${distro_codename}"),
                OriginPattern(origin: "Debian", label: "Debian-Security", codename: "${distro_codename}-security"),
            ])
        #expect(policy.qualify.include.isEmpty && policy.qualify.exclude.isEmpty)
        // Point releases and security updates qualify on the host's own release; -updates and backports do not.
        let q = policy.qualify
        #expect(q.admits(offered("openssl", origin: "Debian", label: "Debian-Security", archive: "stable-security", codename: "bookworm-security"), codename: "bookworm"))
        #expect(q.admits(offered("tzdata", origin: "Debian", label: "Debian", archive: "stable", codename: "bookworm"), codename: "bookworm"))
        #expect(!q.admits(offered("tzdata", origin: "Debian", label: "Debian", archive: "stable", codename: "bookworm"), codename: "trixie"))
        #expect(!q.admits(offered("tzdata", origin: "Debian", label: "Debian", archive: "stable-updates", codename: "bookworm-updates"), codename: "bookworm"))
        #expect(!q.admits(offered("nginx", origin: "Debian Backports", label: "Debian Backports", archive: "stable-backports", codename: "bookworm-backports"), codename: "bookworm"))
    }

    @Test func ubuntusShippedFileNeedsTheDistroIDAndSaysWhichLine() {
        #expect(throws: InvalidInput(
            "f:7: \"${distro_id}:${distro_codename}\" uses ${distro_id}, which a Sluice policy does not expand on each host: give --distro-id with the distributions of your hosts (Debian, Ubuntu; repeat it for both)"
        )) {
            try UnattendedUpgradesImport.translate(String(contentsOfFile: fixtures + "/50unattended-upgrades.Ubuntu", encoding: .utf8), file: "f")
        }
    }

    @Test func ubuntusShippedFileTranslatesWithItsDistroID() throws {
        let result = try UnattendedUpgradesImport.translateFile(
            fixtures + "/50unattended-upgrades.Ubuntu", options: .init(distroIDs: ["Ubuntu"]))
        #expect(result.notTranslated.map(\.description) == removalDefaults)
        #expect(result.findings.filter(\.needsNoEquivalent).map(\.option) == ["Unattended-Upgrade::DevRelease"])
        #expect(result.findings.filter(\.needsNoEquivalent).map(\.line) == [46])
        let policy = try checkedAsAFile(result.yaml)
        #expect(
            policy.qualify.origins.map { "\($0.origin ?? "-") \($0.archive ?? "-")" } == [
                "Ubuntu ${distro_codename}", "Ubuntu ${distro_codename}-security", "UbuntuESMApps ${distro_codename}-apps-security",
                "UbuntuESMApps ${distro_codename}-apps-legacy-security", "UbuntuESM ${distro_codename}-infra-security",
                "UbuntuESM ${distro_codename}-infra-legacy-security",
            ])
        let q = policy.qualify
        #expect(q.admits(offered("openssl", origin: "Ubuntu", label: "Ubuntu", archive: "noble-security", codename: "noble"), codename: "noble"))
        #expect(q.admits(offered("curl", origin: "UbuntuESM", label: "Ubuntu", archive: "noble-infra-security", codename: "noble"), codename: "noble"))
        #expect(!q.admits(offered("openssl", origin: "Ubuntu", label: "Ubuntu", archive: "noble-updates", codename: "noble"), codename: "noble"))
        // The same file for a fleet of both: each ${distro_id} origin once per distribution.
        let both = try UnattendedUpgradesImport.translateFile(
            fixtures + "/50unattended-upgrades.Ubuntu", options: .init(distroIDs: ["Debian", "Ubuntu"]))
        #expect(both.policy.qualify.origins.count == 12)
        #expect(both.policy.qualify.admits(offered("openssl", origin: "Debian", label: "Debian", archive: "bookworm-security", codename: "bookworm"), codename: "bookworm"))
    }

    static let adminFile = """
        Unattended-Upgrade::Origins-Pattern {
                "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";
                "o=Debian Backports,n=${distro_codename}-backports";
                "site=mirror.example.net,component=main";
        };
        Unattended-Upgrade::Package-Blacklist {
            "linux-";
            "libc6$";
            "libstdc\\+\\+6$";
            "(lib)?xen(store)?";
            "python3\\.[0-9]+$";
        };
        Unattended-Upgrade::Remove-Unused-Dependencies "true";
        Unattended-Upgrade::Automatic-Reboot "true";
        Unattended-Upgrade::Automatic-Reboot-Time "02:00";
        Unattended-Upgrade::Verbose "false";
        """

    @Test func anAdminsFileTranslatesWhatSluiceDoesAndReportsTheRest() throws {
        let result = try UnattendedUpgradesImport.translate(Self.adminFile, file: "52local")
        let policy = try checkedAsAFile(result.yaml)
        #expect(
            policy.qualify.origins == [
                OriginPattern(origin: "Debian", label: "Debian-Security", codename: "${distro_codename}-security"),
                OriginPattern(origin: "Debian Backports", codename: "${distro_codename}-backports"),
            ])
        #expect(policy.qualify.exclude == ["linux-*", "libc6", "libstdc++6", "xen*", "libxen*", "python3.*"])
        #expect(
            result.notTranslated.map(\.description) == [
                "not translated: Unattended-Upgrade::Origins-Pattern = \"site=mirror.example.net,component=main\" (line 4): site (the mirror's host name) has no Sluice origin field; the policy leaves this origin out",
                "not translated: Unattended-Upgrade::Package-Blacklist = \"python3\\\\.[0-9]+$\" (line 11): this regular expression has no Sluice glob: a repetition (* or +) of anything but . has no glob; the policy excludes python3.* instead, which holds back at least every package it matched",
                "not translated: Unattended-Upgrade::Remove-Unused-Dependencies = \"true\" (line 13): the agent never removes packages (a set whose install would remove one is refused); run apt-get autoremove by other means",
                "not translated: Unattended-Upgrade::Automatic-Reboot = \"true\" (line 14): Sluice does not reboot hosts yet (planned: issue 18); the agent reports when a reboot is required and sluicectl hosts list warns about it",
                "not translated: Unattended-Upgrade::Automatic-Reboot-Time = \"02:00\" (line 15): goes with Automatic-Reboot, which Sluice does not do yet (planned: issue 18)",
            ] + removalDefaults)
        #expect(result.findings.filter(\.needsNoEquivalent).map(\.option) == ["Unattended-Upgrade::Verbose"])
        // The YAML carries what was not translated, for whoever reads the file later.
        for finding in result.findings { #expect(result.yaml.contains("# \(finding.description)\n")) }
        // Blacklisted packages are never taken.
        let security = (origin: "Debian", label: "Debian-Security", archive: "stable-security", codename: "bookworm-security")
        for name in ["linux-image-amd64", "libc6", "libxenstore4", "xen-utils-4.17"] {
            #expect(!policy.qualify.admits(offered(name, origin: security.origin, label: security.label, archive: security.archive, codename: security.codename), codename: "bookworm"))
        }
        #expect(policy.qualify.admits(offered("libc6-dev", origin: security.origin, label: security.label, archive: security.archive, codename: security.codename), codename: "bookworm"))
    }

    @Test func rebootOffAndAnEmptyMailNeedNoEquivalent() throws {
        let text = """
            Unattended-Upgrade::Origins-Pattern { "origin=Debian,label=Debian-Security"; };
            Unattended-Upgrade::Remove-Unused-Dependencies "false";
            Unattended-Upgrade::Automatic-Reboot "false";
            Unattended-Upgrade::Automatic-Reboot-Time "02:00";
            Unattended-Upgrade::Mail "";
            Unattended-Upgrade::MailReport "on-change";
            """
        let result = try UnattendedUpgradesImport.translate(noRemovals + text, file: "f")
        #expect(result.notTranslated.isEmpty)
        #expect(result.findings.count == 7)
        let mailed = try UnattendedUpgradesImport.translate(noRemovals + text.replacingOccurrences(of: "Mail \"\"", with: "Mail \"root\""), file: "f")
        #expect(mailed.notTranslated.map(\.option) == ["Unattended-Upgrade::Mail", "Unattended-Upgrade::MailReport"])
    }

    @Test func aFileWithoutOriginsSaysThePolicyTakesSecurityArchivesOnly() throws {
        let result = try UnattendedUpgradesImport.translate(noRemovals + "Unattended-Upgrade::Automatic-Reboot \"false\";\n", file: "f")
        #expect(result.policy.qualify.origins.isEmpty)
        #expect(result.notTranslated.map(\.option) == ["Unattended-Upgrade::Allowed-Origins"])
    }

    @Test func whitelistUpdateDaysAndClearTranslate() throws {
        let text = """
            Unattended-Upgrade::Origins-Pattern { "origin=Debian,label=Debian-Security"; "origin=Debian,label=Debian"; };
            #clear Unattended-Upgrade::Origins-Pattern;
            Unattended-Upgrade::Origins-Pattern { "origin=Debian,label=Debian-Security"; };
            Unattended-Upgrade::Package-Whitelist { "bind9"; "openssl$"; };
            Unattended-Upgrade::Update-Days { "Mon"; "3"; };
            """
        let result = try UnattendedUpgradesImport.translate(text, file: "f", options: .init(timeZone: "Europe/Paris"))
        #expect(result.findings.map(\.description) == removalDefaults)
        let policy = try checkedAsAFile(result.yaml)
        #expect(policy.qualify.origins == [OriginPattern(origin: "Debian", label: "Debian-Security")])
        #expect(policy.qualify.include == ["bind9*", "openssl"])
        #expect(policy.dependencies == .includeFromQualifiedOrigins)
        #expect(policy.schedule == .daily(minuteOfDay: 360, timeZone: "Europe/Paris"))
        #expect(policy.waves.allSatisfy { $0.windows == [MaintenanceWindow(weekdays: [2, 4], startMinute: 0, endMinute: 1440, timeZone: "Europe/Paris")] })
        let strict = try UnattendedUpgradesImport.translate(text + "\nUnattended-Upgrade::Package-Whitelist-Strict \"true\";", file: "f")
        #expect(strict.policy.dependencies == .refuse)
        #expect(strict.findings.map(\.description) == removalDefaults)
    }

    @Test func aWhitelistWithNothingTranslatedIsRefusedRatherThanWidenedToEveryPackage() throws {
        let text = "Unattended-Upgrade::Origins-Pattern { \"origin=Debian\"; };\nUnattended-Upgrade::Package-Whitelist { \"bind9{2}\"; };\n"
        #expect(throws: InvalidInput(
            "f:2: no Package-Whitelist item could be translated (\"bind9{2}\": this regular expression has no Sluice glob: a counted repetition {m,n} has no glob), and a policy without include would take every package"
        )) { try UnattendedUpgradesImport.translate(text, file: "f") }
        // One item translated is enough: the policy takes fewer packages, never more.
        let narrower = try UnattendedUpgradesImport.translate(text.replacingOccurrences(of: "\"bind9{2}\";", with: "\"bind9{2}\"; \"nginx$\";"), file: "f")
        #expect(narrower.policy.qualify.include == ["nginx"])
        #expect(narrower.notTranslated.first?.value == "bind9{2}")
    }

    @Test(arguments: [
        ("linux-", ["linux-*"]), ("libc6$", ["libc6"]), (#"libstdc\+\+6$"#, ["libstdc++6"]), ("(lib)?xen(store)?", ["xen*", "libxen*"]),
        ("^nginx.*", ["nginx*"]), ("linux-image-[0-3].+", ["linux-image-[0123]?*"]), ("bind9$|named$", ["bind9", "named"]),
        (#"openssl\d$"#, ["openssl[0123456789]"]), ("a.c$", ["a?c"]),
    ])
    func blacklistRegexBecomesGlobs(regex: String, globs: [String]) throws {
        #expect(try PackageNameRegex.globs(regex) == globs)
    }

    @Test(arguments: [
        (#"python3\.[0-9]+$"#, "python3.*"), ("^libfoo[0-9]", "libfoo*"), ("ab*c", "a*"), ("nginx-?full", "nginx*"), ("bind9+", "bind9*"),
        ("[^a]foo", nil), ("a|b+", nil), (#"\w+"#, nil),
    ])
    func aBlacklistRegexWithoutAGlobIsExcludedByItsLiteralPrefix(regex: String, glob: String?) {
        #expect(PackageNameRegex.widerGlob(regex) == glob)
    }

    @Test(arguments: ["[^a]foo", "foo{2}", "(?i)foo", #"\w+"#, "ab*", "(a$|b)", "a(b"])
    func regexWithoutAGlobIsRefused(regex: String) {
        #expect(throws: PackageNameRegex.Untranslatable.self) { try PackageNameRegex.globs(regex) }
    }

    @Test func malformedFileIsOneLineErrorAndNoPolicy() {
        let text = "Unattended-Upgrade::Origins-Pattern {\n    \"origin=Debian\"\n    \"origin=Ubuntu\";\n};\n"
        #expect(throws: InvalidInput("50unattended-upgrades:2: a ; is missing after \"origin=Debian\": a quoted value cannot be followed by another")) {
            try UnattendedUpgradesImport.translate(text, file: "50unattended-upgrades")
        }
    }

    @Test func breaksYAMLWouldReadStayInsideTheirValue() throws {
        let text = """
            Unattended-Upgrade::Origins-Pattern { "origin=A\u{2028}name: evil,label=L\u{85}x"; };
            Unattended-Upgrade::Package-Blacklist { "foo\u{2028}bar"; "a b"; "\\$\\{x"; };
            Unattended-Upgrade::Mail "root\u{2029}name: evil";
            """
        let result = try UnattendedUpgradesImport.translate(text, file: "f")
        #expect(result.policy.name == "unattended-upgrades")
        #expect(result.policy.qualify.origins == [OriginPattern(origin: "A\u{2028}name: evil", label: "L\u{85}x")])
        #expect(result.policy.qualify.exclude.isEmpty)
        #expect(result.notTranslated.map(\.line) == [2, 2, 2, 3, 0, 0])
    }

    @Test func variablesSluiceDoesNotExpandLeaveTheirOriginOut() throws {
        let text = """
            Unattended-Upgrade::Origins-Pattern {
                "origin=Debian,label=Debian-Security";
                "o=Raspbian,a=${distro_release}";
                "o=Foo,a=${nope}";
                "o=Foo,a=[!x]y";
                "o=Foo,a=$${distro_id}";
            };
            """
        let result = try UnattendedUpgradesImport.translate(text, file: "f")
        #expect(result.policy.qualify.origins == [OriginPattern(origin: "Debian", label: "Debian-Security")])
        #expect(result.notTranslated.map(\.line) == [3, 4, 5, 6, 0, 0])
    }
}
