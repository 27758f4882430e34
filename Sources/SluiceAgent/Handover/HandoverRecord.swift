import Foundation
import SluiceCore

/// What the agent changed to take unattended-upgrades' place on its host, and what was there
/// before: written to the state directory before the first change, removed once the host is
/// handed back, so a hand-back restores exactly what was there and a second take-over never
/// loses the first one's "before".
public struct HandoverRecord: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// Sluice's apt.conf.d override is in place, the timer as ``timer`` says.
        case takenOver = "taken-over"
        /// unattended-upgrades was not installed: nothing was changed.
        case nothingToTakeOver = "nothing-to-take-over"
    }

    /// `apt-daily-upgrade.timer` (apt's, which runs unattended-upgrades) before, and what Sluice did to it.
    public struct Timer: Codable, Sendable, Equatable {
        public var unit: String
        /// What `systemctl is-enabled` printed before: `enabled`, `disabled`, `masked`, `static`…
        public var unitFileStateBefore: String
        /// Whether `systemctl is-active` said `active` before; `nil` when it could not tell
        /// (no systemd running, as in a chroot).
        public var activeBefore: Bool?
        /// Sluice ran `systemctl disable` (it was `enabled`): hand-back enables it again.
        public var disabled: Bool
        /// Sluice ran `systemctl stop` (it was active): hand-back starts it again.
        public var stopped: Bool
    }

    public var state: State
    public var takenOverAt: Date
    /// The apt.conf.d file Sluice wrote (a path on the host), when taken over.
    public var overrideFile: String?
    /// The timer, when systemctl could tell its state.
    public var timer: Timer?

    /// One line for logs and people.
    public var summary: String {
        switch state {
        case .nothingToTakeOver:
            return "unattended-upgrades is not installed: nothing to take over"
        case .takenOver:
            var parts = ["\(overrideFile ?? "?") sets APT::Periodic::Unattended-Upgrade \"0\""]
            if let timer {
                var did: [String] = []
                if timer.disabled { did.append("disabled") }
                if timer.stopped { did.append("stopped") }
                let active = timer.activeBefore.map { $0 ? "active" : "inactive" } ?? "activity unknown"
                parts.append(
                    did.isEmpty
                        ? "\(timer.unit) left as it was (\(timer.unitFileStateBefore), \(active))"
                        : "\(timer.unit) \(did.joined(separator: " and ")) (was \(timer.unitFileStateBefore), \(active))")
            } else {
                parts.append("apt-daily-upgrade.timer's state unknown, left as it was")
            }
            return parts.joined(separator: "; ")
        }
    }
}

/// Why a host was handed back to unattended-upgrades.
public enum HandbackReason: String, Codable, Sendable {
    /// `sluice-agent handback`, run by an operator or by the package's removal.
    case command
    /// The controller revoked this host.
    case revoked
    /// The controller was unreachable for longer than `orphan_after`.
    case orphaned
}

/// An orphaned host's hand-back: written when the controller has been unreachable for
/// `orphan_after`, removed once the controller, answering again, has been told of it and of
/// the take-over that followed.
public struct HandbackNote: Codable, Sendable, Equatable {
    public var handedBackAt: Date
    public var reason: HandbackReason
    /// One line: what was restored and why.
    public var detail: String
}
