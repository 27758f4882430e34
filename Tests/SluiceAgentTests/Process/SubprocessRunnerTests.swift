import SluiceAgent
import Testing

/// These start real programs from coreutils (and perl-base, which Debian marks Essential);
/// none of them is a shell.
@Suite("SubprocessRunner with real processes")
struct SubprocessRunnerTests {
    let runner = SubprocessRunner()

    @Test("stdout, stderr and the exit status are captured")
    func capturesOutputAndStatus() async throws {
        let printed = try await runner.run("printf", ["a\\tb\\n%s", "x y"], timeout: .seconds(60))
        #expect(printed == CommandResult(status: 0, stdout: "a\tb\nx y", stderr: ""))
        let failed = try await runner.run("ls", ["/nonexistent-sluice-path"], timeout: .seconds(60))
        #expect(failed.status == 2)
        #expect(failed.stdout.isEmpty)
        #expect(failed.firstStderrLine?.contains("No such file or directory") == true)
    }

    @Test("arguments reach the program verbatim: shell metacharacters are not interpreted")
    func argumentsAreNotInterpreted() async throws {
        let hostile = "$(touch /tmp/sluice-pwned); echo `id` | cat > /dev/null & *"
        let result = try await runner.run("printf", ["%s", hostile], timeout: .seconds(60))
        #expect(result.stdout == hostile)
    }

    @Test("the locale is forced to C.UTF-8, added variables are passed, LANGUAGE is removed")
    func environment() async throws {
        let result = try await runner.run(
            "env", [], environment: ["SLUICE_PROBE": "42", "LC_ALL": "fr_FR.UTF-8", "LANGUAGE": "fr"],
            timeout: .seconds(60)
        )
        let lines = Set(result.stdout.split(separator: "\n").map(String.init))
        #expect(lines.contains("LC_ALL=C.UTF-8"))
        #expect(lines.contains("LANG=C.UTF-8"))
        #expect(lines.contains("SLUICE_PROBE=42"))
        #expect(!lines.contains { $0.hasPrefix("LANGUAGE=") })
        #expect(lines.contains { $0.hasPrefix("PATH=") }, "the rest of the environment is inherited")
    }

    @Test("a command past its timeout is terminated and reported in one line")
    func timeout() async throws {
        let start = ContinuousClock.now
        let error = try await #require(throws: CommandError.self) {
            try await runner.run("sleep", ["600"], timeout: .milliseconds(300))
        }
        #expect(error.description == "sleep timed out after 300ms")
        #expect(error.kind == .timedOut)
        // Not a speed test: only that it was ended, long before sleep's own 600 seconds.
        #expect(ContinuousClock.now - start < .seconds(300), "SIGTERM ended it, well before sleep's 600 seconds")
    }

    @Test("a program that ignores SIGTERM is killed after the grace period")
    func killAfterGrace() async throws {
        let runner = SubprocessRunner(terminationGrace: .milliseconds(200))
        let start = ContinuousClock.now
        let error = try await #require(throws: CommandError.self) {
            try await runner.run("perl", ["-e", "$SIG{TERM} = 'IGNORE'; sleep 600"], timeout: .milliseconds(300))
        }
        #expect(error.kind == .timedOut)
        #expect(error.description == "perl timed out after 300ms")
        #expect(ContinuousClock.now - start < .seconds(300), "SIGKILL ended it, long before its own 600 seconds")
    }

    @Test("a process ended by a signal reports 128 + the signal number")
    func signalStatus() async throws {
        let result = try await runner.run("perl", ["-e", "kill 'KILL', $$"], timeout: .seconds(60))
        #expect(result.status == 137)
        #expect(CommandError.failed("perl", result).description == "perl was killed by signal 9")
    }

    @Test("a missing program is reported by name, on PATH or at an absolute path")
    func missingProgram() async throws {
        let byName = try await #require(throws: CommandError.self) {
            try await runner.run("sluice-no-such-program", [], timeout: .seconds(60))
        }
        #expect(byName.description == "cannot run \"sluice-no-such-program\": not found on PATH")
        #expect(byName.kind == .notFound)
        let byPath = try await #require(throws: CommandError.self) {
            try await runner.run("/nonexistent/sluice-tool", [], timeout: .seconds(60))
        }
        #expect(byPath.kind == .notFound)
        #expect(byPath.description.hasPrefix("cannot run \"/nonexistent/sluice-tool\""))
        let relative = try await #require(throws: CommandError.self) {
            try await runner.run("bin/ls", [], timeout: .seconds(60))
        }
        #expect(relative.kind == .notFound)
    }

    @Test("output beyond the limit is an error, not a truncated result")
    func outputLimit() async throws {
        let runner = SubprocessRunner(stdoutLimit: 1_000)
        let error = try await #require(throws: CommandError.self) {
            try await runner.run("head", ["-c", "2000000", "/dev/zero"], timeout: .seconds(60))
        }
        #expect(error.kind == .outputTooLarge)
        #expect(error.description == "head printed more than its limit of 1000 bytes on stdout or 1 MiB on stderr")
    }
}
