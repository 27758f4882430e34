import Foundation
import SluiceTestSupport
import Testing

/// The Debian packages as they ship: `scripts/package` builds the release binaries (Swift's
/// runtime linked in) and the three .debs, then `scripts/package-check` runs lintian on them
/// and installs, checks and purges them in the fleet lab's cached bookworm and trixie roots
/// (`scripts/fleet-lab roots` builds those the first time). The scripts keep out of the fleet
/// lab's way themselves: builds into `.build-agent` take turns (`scripts/build-agent`'s lock),
/// and a cached root is only ever read, through an overlay.
@Suite("Live: the Debian packages (scripts/package, scripts/package-check)", .serialized,
    .enabled(if: PackagingTools.available, PackagingTools.reason))
struct PackagesLiveTests {
    @Test(.timeLimit(.minutes(60)))
    func theReleasePackagesHaveNoLintianErrorAndInstallRunAndPurgeCleanlyOnBookwormAndTrixie() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let debs = try await BuiltPackages.directory.value

        let roots = try await Self.run("scripts/fleet-lab", ["roots"], logs: directory)
        try #require(roots.status == 0, "scripts/fleet-lab roots exited \(roots.status):\n\(roots.errors.suffix(4000))")
        let paths = roots.output.split(separator: "\n").map(String.init)
        #expect(paths.map { URL(fileURLWithPath: $0).lastPathComponent.split(separator: "-").dropFirst().first } == ["bookworm", "trixie"])

        // No --extra-deb: each root has every dependency of the packages already.
        let checked = try await Self.run("scripts/package-check", [debs] + paths, logs: directory)
        #expect(checked.status == 0, "scripts/package-check exited \(checked.status):\n\(checked.output)\n\(checked.errors.suffix(4000))")
        let lines = checked.output.split(separator: "\n")
        #expect(lines.last == "all checks passed", "\(checked.output)")
        // Release binaries run in the roots: no check was skipped as for a trial build.
        #expect(!lines.contains { $0.hasPrefix("SKIP ") }, "\(checked.output)")
        #expect(lines.filter { $0.hasPrefix("== ") }.count == 2, "\(checked.output)")
    }

    /// What a script printed on each stream, and its exit status.
    struct ScriptRun {
        let status: Int32
        let output: String
        let errors: String
    }

    /// Runs one of the repository's scripts to its end, its output in files under `logs`
    /// (swift build's and dpkg's can be long).
    static func run(_ script: String, _ arguments: [String], logs: TemporaryDirectory) async throws -> ScriptRun {
        let name = URL(fileURLWithPath: script).lastPathComponent
        let output = logs.file(name + ".out"), errors = logs.file(name + ".err")
        for file in [output, errors] { _ = FileManager.default.createFile(atPath: file, contents: nil) }
        let outputHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        let errorsHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        let status = try await runScript(script, arguments, output: outputHandle, errors: errorsHandle)
        try outputHandle.close()
        try errorsHandle.close()
        return ScriptRun(
            status: status, output: try String(contentsOfFile: output, encoding: .utf8).trimmingCharacters(in: .newlines),
            errors: try String(contentsOfFile: errors, encoding: .utf8))
    }
}

/// The packages of this test run, built once by `scripts/package` for every test that needs
/// them (these, and the fleet lab's hosts and controller), into a directory left for the run.
enum BuiltPackages {
    static let directory = Task<String, any Error> {
        let directory = try TemporaryDirectory()
        let debs = directory.file("debs")
        let built = try await PackagesLiveTests.run("scripts/package", ["--out", debs], logs: directory)
        guard built.status == 0 else { throw LiveError("scripts/package exited \(built.status):\n\(built.errors.suffix(20_000))") }
        let names = built.output.split(separator: "\n").map { URL(fileURLWithPath: String($0)).lastPathComponent }
        guard names.map({ $0.prefix { $0 != "_" } }) == ["sluiced", "sluice-agent", "sluicectl"] else {
            throw LiveError("scripts/package printed \(names), expected the sluiced, sluice-agent and sluicectl packages")
        }
        return debs
    }
}

/// Root, and the tools that build and check the packages (`.ci/run` installs them).
enum PackagingTools {
    static let available: Bool = getuid() == 0
        && ["/usr/bin/dpkg-buildpackage", "/usr/bin/dh", "/usr/bin/help2man", "/usr/bin/lintian", "/usr/bin/systemd-nspawn", "/usr/sbin/debootstrap"]
            .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    static let reason: Comment =
        "building and checking the packages needs root (overlay mounts, systemd-nspawn) and dpkg-dev, debhelper, help2man, lintian, systemd-container, debootstrap (installed by .ci/run)"
}
