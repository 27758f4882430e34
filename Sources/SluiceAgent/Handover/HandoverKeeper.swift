import Foundation
import Logging
import SluiceAPI
import SluiceClient
import SluiceCore

/// What the running agent does about unattended-upgrades after each heartbeat to its
/// controller (every `heartbeat_interval`; heartbeats always reach the controller, an unchanged
/// inventory does not). The first answer after the agent starts makes sure the host is taken over
/// (`sluice-agent enroll` took it over; this keeps it so, and takes over a host enrolled by a
/// hand-written config, or where unattended-upgrades was installed since). A revoked host is
/// handed back at once; a host whose controller has not answered for `orphan_after` is handed
/// back too (it is orphaned), and taken over again once the controller answers, which the
/// agent then reports (`POST /v1/hosts/{hostID}/handover`; audited as `host.handed-back` and
/// `host.taken-over`).
///
/// The time of the last answer is kept in the state directory (`controller-contact.json`), so
/// an agent restarted during an outage does not start counting again; it is rewritten at most
/// every ``saveInterval``, which is all the precision a limit of days needs.
public struct HandoverKeeper: Sendable {
    public static let contactFileName = "controller-contact.json"
    static let saveInterval: TimeInterval = 600

    let handover: UnattendedUpgradesHandover
    let orphanAfter: TimeInterval
    let logger: Logger
    var lastContact: Date
    var savedContact: Date?
    /// Whether this agent has made sure of the take-over since it started.
    var assured = false

    /// - Parameters:
    ///   - handover: takes over and hands back.
    ///   - orphanAfterSeconds: `orphan_after`.
    ///   - now: the agent's start, the last contact when none was saved.
    public init(handover: UnattendedUpgradesHandover, orphanAfterSeconds: Int64, logger: Logger, now: Date) {
        self.handover = handover
        self.orphanAfter = TimeInterval(orphanAfterSeconds)
        self.logger = logger
        let saved = (try? String(contentsOfFile: handover.stateDirectory + "/" + Self.contactFileName, encoding: .utf8))
            .flatMap { ISO8601DateFormatter().date(from: $0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        self.savedContact = saved
        self.lastContact = saved ?? now
    }

    /// The controller answered: remember when; take over once per start, and again after an orphaned hand-back.
    /// - Returns: an orphaned hand-back not yet reported, with the take-over that followed it:
    ///   the caller reports both, then calls `forgetHandback()`.
    public mutating func reached(now: Date) async -> (handback: HandbackNote, takeover: HandoverRecord)? {
        lastContact = now
        if savedContact.map({ now.timeIntervalSince($0) >= Self.saveInterval }) ?? true {
            let path = handover.stateDirectory + "/" + Self.contactFileName
            do {
                try? FileManager.default.createDirectory(
                    atPath: handover.stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                try writeFileAtomically(ISO8601DateFormatter().string(from: now) + "\n", to: path, mode: 0o600)
                savedContact = now
            } catch {
                logger.warning("\(error.message)")
            }
        }
        let note: HandbackNote?
        do { note = try handover.pendingHandback() } catch {
            logger.error("\(error.message)")
            return nil
        }
        guard note != nil || !assured else { return nil }
        do {
            let record = try await handover.takeOver(now: now)
            assured = true
            guard let note else { return nil }
            return (note, record)
        } catch {
            logger.error("\(error.message)")
            return nil
        }
    }

    /// An exchange with the controller failed: hands the host back if it was revoked, or if
    /// the controller has not answered for `orphan_after`.
    /// - Returns: why the host was handed back, if it was now.
    @discardableResult
    public func failed(_ error: any Error, now: Date) async -> HandbackReason? {
        let reason: HandbackReason
        if case ClientError.api(401, APIErrorCode.hostRevoked, _) = error {
            reason = .revoked
        } else if now.timeIntervalSince(lastContact) >= orphanAfter {
            reason = .orphaned
        } else {
            return nil
        }
        do {
            guard try handover.record()?.state == .takenOver else { return nil }
            try await handover.handBack(reason: reason, now: now)
            return reason
        } catch {
            logger.error("\(UnattendedUpgradesHandover.why(reason)), but handing back failed: \(error.message)")
            return nil
        }
    }
}
