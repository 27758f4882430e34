import Foundation
import SluiceTestSupport
import Testing

/// `sluicectl policy import-uu` as an operator runs it: the built program on the files the
/// distributions ship, its output checked by `sluicectl policy check`.
@Suite("Live: sluicectl policy import-uu")
struct PolicyImportCLITests {
    static let fixtures = repositoryRoot.appendingPathComponent("Tests/SluiceYAMLTests/Fixtures/unattended-upgrades").path

    /// The shipped files translate and pass `policy check`; they exit 3 for the removals
    /// unattended-upgrades does by default and Sluice does not.
    @Test func importedShippedFilesPassPolicyCheck() async throws {
        try await onOwnThread {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            for (file, extra) in [("50unattended-upgrades.Debian", []), ("50unattended-upgrades.Ubuntu", ["--distro-id", "Ubuntu"])] {
                let imported = try runProgram("sluicectl", ["policy", "import-uu", Self.fixtures + "/" + file, "--name", "uu-default"] + extra)
                #expect(imported.status == 3, "\(file): \(imported.stderr)")
                #expect(imported.stderr.contains("not translated: Unattended-Upgrade::Remove-Unused-Kernel-Packages = \"true\": unattended-upgrades' default"))
                let path = dir.file("\(file).yaml")
                try imported.stdout.write(toFile: path, atomically: true, encoding: .utf8)
                let check = try runProgram("sluicectl", ["policy", "check", path])
                #expect(check.status == 0, "\(file): \(check.stderr)")
                #expect(check.stdout.hasPrefix("\(path): ok: uu-default: waves test (all, soak 2h) > canary (one-per-group, soak 4h) > rest"))
            }
        }
    }

    @Test func exitsZeroWhenEverythingIsTranslatedAndThreeWhenNot() async throws {
        try await onOwnThread {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let path = dir.file("52local")
            let translatable = """
                Unattended-Upgrade::Origins-Pattern { "origin=Debian,label=Debian-Security"; };
                Unattended-Upgrade::Remove-New-Unused-Dependencies "false";
                Unattended-Upgrade::Remove-Unused-Kernel-Packages "false";

                """
            try translatable.write(toFile: path, atomically: true, encoding: .utf8)
            let clean = try runProgram("sluicectl", ["policy", "import-uu", path])
            #expect(clean.status == 0, "\(clean.stderr)")
            #expect(clean.stdout.contains("name: unattended-upgrades\n"))
            try (translatable + "Unattended-Upgrade::Automatic-Reboot \"true\";\n").write(toFile: path, atomically: true, encoding: .utf8)
            let imported = try runProgram("sluicectl", ["policy", "import-uu", path])
            #expect(imported.status == 3)
            #expect(imported.stdout.contains("name: unattended-upgrades\n"))
            #expect(imported.stderr.contains("not translated: Unattended-Upgrade::Automatic-Reboot = \"true\" (line 4): Sluice does not reboot hosts yet"))
        }
    }

    @Test func aMalformedFileIsOneLineAndNoYAML() async throws {
        try await onOwnThread {
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let path = dir.file("50broken")
            try "Unattended-Upgrade::Package-Blacklist {\n  \"linux-;\n};\n".write(toFile: path, atomically: true, encoding: .utf8)
            let imported = try runProgram("sluicectl", ["policy", "import-uu", path])
            #expect(imported.status == 1)
            #expect(imported.stdout.isEmpty)
            #expect(imported.stderr == "\(path):2: unterminated quoted string: a closing \" is missing on this line\n")
        }
    }
}
