// A test-only program: runs AptBackend against a root in its own process, so the crash tests
// can kill it with SIGKILL right after a chosen journal entry is on disk, then recover.
//
//   sluice-apply-harness apply --root R --state S --assignment ID --instructions FILE
//                              [--kill-at PHASE [--occurrence N] [--kill-during-dpkg 1]]
//   sluice-apply-harness recover --root R --state S
//
// Prints the finished step (apply) or the recovered apply (recover, `null` when none) as JSON.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import SluiceAgent
import SluiceCore

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("sluice-apply-harness: \(message)\n".utf8))
    exit(2)
}

var options: [String: String] = [:]
let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail("usage: apply|recover --root R --state S …") }
var index = 1
while index + 1 < arguments.count {
    options[String(arguments[index].drop { $0 == "-" })] = arguments[index + 1]
    index += 2
}
guard let root = options["root"], let state = options["state"] else { fail("--root and --state are required") }

/// Kills this process with SIGKILL after the chosen entry (the n-th of its phase) is durable,
/// or, with `watch`, once that file is no longer empty after the entry: the restart hold's log
/// gets its first line when a postinst asks to restart, that is, in the middle of dpkg's run.
final class KillSwitch: Sendable {
    let phase: ApplyJournalEntry.Phase?
    let occurrence: Int
    let watch: String?
    private let seen = Mutex(0)

    init(phase: ApplyJournalEntry.Phase?, occurrence: Int, watch: String?) {
        self.phase = phase
        self.occurrence = occurrence
        self.watch = watch
    }

    func observe(_ entry: ApplyJournalEntry) {
        guard entry.phase == phase else { return }
        let count = seen.withLock { value in
            value += 1
            return value
        }
        guard count == occurrence else { return }
        guard let watch else { kill(getpid(), SIGKILL); return }
        Thread.detachNewThread {
            while ((try? FileManager.default.attributesOfItem(atPath: watch)[.size] as? Int) ?? 0) == 0 { usleep(2_000) }
            kill(getpid(), SIGKILL)
        }
    }
}

var killAt: ApplyJournalEntry.Phase?
if let text = options["kill-at"] {
    guard let phase = ApplyJournalEntry.Phase(rawValue: text) else { fail("unknown phase \(text)") }
    killAt = phase
}
let killSwitch = KillSwitch(
    phase: killAt, occurrence: Int(options["occurrence"] ?? "1") ?? 1,
    watch: options["kill-during-dpkg"] == "1" ? root + "/var/lib/sluice/held-restarts.log" : nil)
let backend = AptBackend(
    configuration: .init(root: root, stateDirectory: state, minimumFreeBytes: 16 << 20, lockTimeoutSeconds: 120),
    journalObserver: { killSwitch.observe($0) })
let encoder = JSONEncoder()
encoder.outputFormatting = [.sortedKeys]

switch command {
case "apply":
    guard let id = options["assignment"], let file = options["instructions"], let data = FileManager.default.contents(atPath: file) else {
        fail("apply needs --assignment and a readable --instructions file")
    }
    let instructions: ApplyInstructions
    do { instructions = try JSONDecoder().decode(ApplyInstructions.self, from: data) } catch { fail("bad instructions: \(error)") }
    let finished = await backend.apply(instructions, assignmentID: id) { _ in }
    print(String(decoding: try encoder.encode(finished), as: UTF8.self))
case "recover":
    struct Recovered: Encodable {
        var assignmentID: String
        var finished: ApplyStepReport
    }
    let recovered = await backend.recover { _, _ in }
    let value = recovered.map { Recovered(assignmentID: $0.assignmentID, finished: $0.finished) }
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
default:
    fail("unknown command \(command)")
}
