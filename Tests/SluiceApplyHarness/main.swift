// A test-only program: runs AptBackend against a root in its own process, so the crash tests
// can kill it with SIGKILL right after a chosen journal entry is on disk, then recover.
//
//   sluice-apply-harness apply --root R --state S --assignment ID --instructions FILE
//                              [--kill-at PHASE [--occurrence N] [--kill-during-dpkg 1] [--power-loss 1]]
//                              [--boot-id-file FILE]
//   sluice-apply-harness recover --root R --state S [--boot-id-file FILE]
//
// --power-loss also kills every process running inside the root (apt, dpkg, the daemon), as a
// power cut would; --boot-id-file stands in for the kernel's boot id, so a test can "reboot".
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
    let rootToKill: String?
    private let seen = Mutex(0)

    init(phase: ApplyJournalEntry.Phase?, occurrence: Int, watch: String?, rootToKill: String?) {
        self.phase = phase
        self.occurrence = occurrence
        self.watch = watch
        self.rootToKill = rootToKill
    }

    func die() {
        if let rootToKill {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            for pid in entries.compactMap({ Int32($0) }) where pid != getpid() {
                if (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root")) == rootToKill { kill(pid, SIGKILL) }
            }
        }
        kill(getpid(), SIGKILL)
    }

    func observe(_ entry: ApplyJournalEntry) {
        guard entry.phase == phase else { return }
        let count = seen.withLock { value in
            value += 1
            return value
        }
        guard count == occurrence else { return }
        guard let watch else { die(); return }
        // The log may still hold an earlier run's lines: wait for a line written after this
        // entry (the hold re-created the file, or it was empty).
        @Sendable func identity() -> (inode: UInt64, size: Int) {
            var info = stat()
            return stat(watch, &info) == 0 ? (UInt64(info.st_ino), Int(info.st_size)) : (0, 0)
        }
        let armed = identity()
        Thread.detachNewThread {
            while true {
                let now = identity()
                if now.size > 0 && (armed.size == 0 || now.inode != armed.inode) { break }
                usleep(2_000)
            }
            self.die()
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
    watch: options["kill-during-dpkg"] == "1" ? root + state + "/held-restarts.log" : nil,
    rootToKill: options["power-loss"] == "1" ? root : nil)
var configuration = AptBackend.Configuration(root: root, stateDirectory: state, minimumFreeBytes: 16 << 20, lockTimeoutSeconds: 120)
if let file = options["boot-id-file"] { configuration.bootIDFile = file }
let backend = AptBackend(configuration: configuration, journalObserver: { killSwitch.observe($0) })
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
