import Foundation
import SluiceAgent

/// A ``CommandRunner`` playing systemd for one timer inside a test root: `systemctl
/// is-enabled|is-active|enable|disable|start|stop UNIT`, run as `chroot ROOT systemctl …` (as
/// ``HostRoot`` runs commands in a root). It keeps the unit's state, records each command, and
/// can be told to fail one.
final class FakeSystemd: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var unitFileState: String
    private var active: Bool?
    private var failing: Set<String>
    private var log: [String] = []

    /// - Parameters:
    ///   - unitFileState: what `is-enabled` prints: `enabled`, `disabled`, `masked`…
    ///   - active: whether the timer runs; `nil` plays a systemd that cannot tell (a chroot).
    ///   - failing: verbs that fail (`stop`…).
    init(unitFileState: String, active: Bool?, failing: Set<String> = []) {
        self.unitFileState = unitFileState
        self.active = active
        self.failing = failing
    }

    var state: (unitFileState: String, active: Bool?) { lock.withLock { (unitFileState, active) } }
    /// The state-changing commands run, such as `disable apt-daily-upgrade.timer`.
    var changes: [String] { lock.withLock { log.filter { !$0.hasPrefix("is-") } } }
    func fail(_ verbs: Set<String>) { lock.withLock { failing = verbs } }

    func run(_ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration) async throws -> CommandResult {
        guard executable == "/usr/sbin/chroot", arguments.count == 4, arguments[1] == "systemctl" else {
            throw CommandError(command: executable, kind: .notFound, description: "cannot run \"\(executable) \(arguments)\" in this test")
        }
        let verb = arguments[2]
        return lock.withLock {
            log.append("\(verb) \(arguments[3])")
            if failing.contains(verb) { return CommandResult(status: 1, stderr: "Failed to \(verb) unit: Access denied\n") }
            switch verb {
            case "is-enabled":
                return CommandResult(status: unitFileState == "enabled" ? 0 : 1, stdout: unitFileState + "\n")
            case "is-active":
                guard let active else { return CommandResult(status: 1, stderr: "System has not been booted with systemd as init system (PID 1). Can't operate.\n") }
                return CommandResult(status: active ? 0 : 3, stdout: active ? "active\n" : "inactive\n")
            case "enable": unitFileState = "enabled"
            case "disable": unitFileState = "disabled"
            case "start": active = true
            case "stop": active = false
            default: return CommandResult(status: 1, stderr: "Unknown command verb \(verb).\n")
            }
            return CommandResult(status: 0)
        }
    }
}
