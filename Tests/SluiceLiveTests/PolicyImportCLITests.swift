import Foundation
import SluiceTestSupport
import Testing

/// `sluicectl policy import-uu` as an operator runs it: the built program on the files the
/// distributions ship, its output checked by `sluicectl policy check`.
@Suite("Live: sluicectl policy import-uu")
struct PolicyImportCLITests {
    static let fixtures = repositoryRoot.appendingPathComponent("Tests/SluiceYAMLTests/Fixtures/unattended-upgrades").path

    @Test func importedDefaultsPassPolicyCheckAndExitZero() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for (file, extra) in [("50unattended-upgrades.Debian", []), ("50unattended-upgrades.Ubuntu", ["--distro-id", "Ubuntu"])] {
            let imported = try runProgram("sluicectl", ["policy", "import-uu", Self.fixtures + "/" + file, "--name", "uu-default"] + extra)
            #expect(imported.status == 0, "\(file): \(imported.stderr)")
            let path = dir.file("\(file).yaml")
            try imported.stdout.write(toFile: path, atomically: true, encoding: .utf8)
            let check = try runProgram("sluicectl", ["policy", "check", path])
            #expect(check.status == 0, "\(file): \(check.stderr)")
            #expect(check.stdout.hasPrefix("\(path): ok: uu-default: waves test (all, soak 2h) > canary (one-per-group, soak 4h) > rest"))
        }
    }

    @Test func somethingNotTranslatedExitsThreeAndSaysWhatOnStandardError() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("52local")
        try "Unattended-Upgrade::Origins-Pattern { \"origin=Debian,label=Debian-Security\"; };\nUnattended-Upgrade::Automatic-Reboot \"true\";\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let imported = try runProgram("sluicectl", ["policy", "import-uu", path])
        #expect(imported.status == 3)
        #expect(imported.stdout.contains("name: unattended-upgrades\n"))
        #expect(imported.stderr.hasPrefix("not translated: Unattended-Upgrade::Automatic-Reboot = \"true\" (line 2): Sluice does not reboot hosts yet"))
    }

    @Test func aMalformedFileIsOneLineAndNoYAML() throws {
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
