#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SluiceCore

/// Holds service restarts while packages install: a `/usr/sbin/policy-rc.d` that answers 101
/// ("action forbidden") to every request from `invoke-rc.d` and `deb-systemd-invoke`, for every
/// service id and unit name, and records each request in ``logPath`` (in the agent's state
/// directory) so the agent restarts exactly those services once the new binaries are validated.
///
/// It is present only while the agent holds its apply lock: ``engage()`` moves a pre-existing
/// `policy-rc.d` aside, ``release()`` removes ours and puts that one back, and agent start calls
/// ``release()`` too, so a crash never leaves restarts held.
struct RestartHold: Sendable {
    static let policyPath = "/usr/sbin/policy-rc.d"
    static let savedPath = "/usr/sbin/policy-rc.d.sluice-saved"
    static let marker = "# sluice-agent restart hold"
    /// Actions whose refusal means the service should be (re)started once the hold is released.
    static let startingActions: Set<String> = ["start", "restart", "try-restart", "reload", "force-reload"]

    let root: HostRoot
    /// The agent's state directory as a path inside the root, where the maintainer scripts that
    /// call `policy-rc.d` see it (on a host, whose root is `/`, the state directory itself).
    let stateDirectory: String

    /// The log of refused requests, inside the root.
    var logPath: String { stateDirectory + "/held-restarts.log" }

    /// The `policy-rc.d` that ``engage()`` writes, with ``logPath`` written into it.
    var script: String {
        """
        #!/bin/sh
        \(Self.marker): installed by sluice-agent while it applies packages, removed when it is done.
        # Refuses every action (exit 101) and records it, so the agent restarts the service only
        # after the new version has been validated.
        mkdir -p -m 0700 \(shellWord(stateDirectory)) 2>/dev/null
        printf '%s\\n' "$*" >> \(shellWord(logPath)) 2>/dev/null
        exit 101

        """
    }

    /// Whether our `policy-rc.d` is in place.
    var isEngaged: Bool {
        guard let text = try? String(contentsOfFile: root.file(Self.policyPath), encoding: .utf8) else { return false }
        return text.contains(Self.marker)
    }

    /// Installs the hold, moving a foreign `policy-rc.d` aside first, and empties the log.
    /// - Throws: ``InvalidInput`` when a file cannot be written.
    func engage() throws(InvalidInput) {
        let policy = root.file(Self.policyPath)
        if exists(policy) && !isEngaged {
            guard !exists(root.file(Self.savedPath)) else {
                throw InvalidInput("both \(Self.policyPath) and \(Self.savedPath) exist; resolve by hand")
            }
            guard rename(policy, root.file(Self.savedPath)) == 0 else { throw InvalidInput("cannot move \(policy) aside: \(errnoText())") }
        }
        try makeDirectory(root.file(stateDirectory))
        try writeFileAtomically("", to: root.file(logPath), mode: 0o644)
        try writeFileAtomically(script, to: policy, mode: 0o755)
    }

    /// Removes our `policy-rc.d` and restores a saved one. Safe to call when nothing is held.
    /// - Returns: a problem to report, or `nil`.
    @discardableResult
    func release() -> String? {
        var problem: String?
        if isEngaged && unlink(root.file(Self.policyPath)) != 0 {
            problem = "cannot remove \(Self.policyPath): \(errnoText())"
        }
        if exists(root.file(Self.savedPath)) && !exists(root.file(Self.policyPath)) {
            if rename(root.file(Self.savedPath), root.file(Self.policyPath)) != 0 {
                problem = "cannot restore \(Self.policyPath): \(errnoText())"
            }
        }
        return problem
    }

    /// The services whose start or restart was refused since ``engage()``, in first-seen order.
    var refusedServices: [String] {
        guard let text = try? String(contentsOfFile: root.file(logPath), encoding: .utf8) else { return [] }
        return Self.services(inLog: text)
    }

    /// Reads the log: `[--quiet] ID ACTION… [RUNLEVEL]` per line, actions possibly in
    /// parentheses (`(restart)`, which invoke-rc.d passes when the runlevel already forbids it).
    static func services(inLog text: String) -> [String] {
        var services: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ").filter { !$0.hasPrefix("-") }
            guard let id = words.first.map(String.init), isServiceName(id) else { continue }
            let actions = words.dropFirst().map { $0.filter { $0 != "(" && $0 != ")" } }
            guard actions.contains(where: startingActions.contains) else { continue }
            let name = id.hasSuffix(".service") ? String(id.dropLast(".service".count)) : id
            if !services.contains(name) { services.append(name) }
        }
        return services
    }

    /// A service id or unit name as init scripts and systemd spell them.
    static func isServiceName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.count <= 256, first != "-", first != "." else { return false }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "@._:+-".unicodeScalars.contains($0)
        }
    }
}

/// `text` as one word for `/bin/sh`: in single quotes, each single quote written as `'\''`.
func shellWord(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
