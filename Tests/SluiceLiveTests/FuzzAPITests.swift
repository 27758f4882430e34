import Foundation
import Testing

/// Whether `scripts/fuzz-api --install-only` has installed schemathesis for this checkout.
let schemathesisInstalled = FileManager.default.isExecutableFile(
    atPath: repositoryRoot.appendingPathComponent(".build/fuzz-venv/bin/schemathesis").path)

/// `scripts/fuzz-api --short`: schemathesis against a real sluiced over loopback, from
/// openapi/sluice-v1.yaml, for about a minute. Fails on anything the script reports (a 5xx,
/// an undocumented status, content type or body, a write caused by an invalid request).
/// The test downloads nothing: schemathesis is installed beforehand by
/// `scripts/fuzz-api --install-only` (`.ci/run` runs it), and the test is skipped, saying so,
/// where it is not.
@Suite("Live: API fuzzing", .enabled(if: schemathesisInstalled, "schemathesis is not installed: run scripts/fuzz-api --install-only (.ci/run does)"))
struct FuzzAPITests {
    @Test(.timeLimit(.minutes(4)))
    func theShortFuzzRunFindsNothing() async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-fuzz-api-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: output) }
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let log = try FileHandle(forWritingTo: output)
        defer { try? log.close() }

        let started = Date()
        // The executables `swift test` built: the script must not run `swift build` itself
        // while this test run holds the build directory.
        let status = try await runScript(
            "scripts/fuzz-api", ["--short"], environment: ["SLUICE_BIN_DIR": try binaryDirectory().path, "SLUICE_FUZZ_NO_INSTALL": "1"],
            output: log, errors: log)
        let elapsed = Date().timeIntervalSince(started)

        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        let summary = text.split(separator: "\n").last { $0.hasPrefix("fuzz-api: ") }.map(String.init) ?? "(no summary line)"
        print("\(summary) (the test waited \(Int(elapsed)) s)")
        #expect(status == 0, "scripts/fuzz-api --short exited \(status) after \(Int(elapsed)) s: \(summary)\n\(text.suffix(20_000))")
        #expect(summary.hasPrefix("fuzz-api: OK:"), "\(summary)")
    }
}
