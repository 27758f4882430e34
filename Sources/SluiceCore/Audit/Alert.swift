/// What the alert webhook receives, as JSON (documented as `Alert` in openapi/sluice-v1.yaml).
///
/// Each request carries the headers `X-Sluice-Delivery` (the alert's `id`, the same on every
/// retry: deduplicate on it), `X-Sluice-Event` (its `kind`) and `X-Sluice-Signature`
/// (`sha256=` and the hexadecimal HMAC-SHA256 of the body with the configured secret).
public struct Alert: Sendable, Codable, Equatable {
    /// The delivery id: alerts are numbered in the order they happened.
    public var id: Int64
    /// `rollout.halted`, `rollout.completed`, `rollout.aborted`, `rollout.reverting`,
    /// `rollout.revert-refused`, `wave.waiting-approval`, `host.failed`, `host.refused`, `host.silent`.
    public var kind: String
    public var rollout: Int64?
    public var wave: String?
    public var host: String?
    /// One line, for people.
    public var message: String
    public var atMs: Int64

    public init(id: Int64, kind: String, rollout: Int64?, wave: String?, host: String?, message: String, atMs: Int64) {
        self.id = id
        self.kind = kind
        self.rollout = rollout
        self.wave = wave
        self.host = host
        self.message = message
        self.atMs = atMs
    }

    /// The alert an audit event raises, if any (its id is given when it is stored).
    public static func raised(by event: AuditEvent) -> Alert? {
        let details = AuditDetails(event.details)
        let rollout = event.rolloutID.map { "rollout \($0)" } ?? "a rollout"
        let host = event.hostID ?? "?"
        func alert(_ kind: String, _ message: String) -> Alert {
            Alert(id: 0, kind: kind, rollout: event.rolloutID, wave: event.wave, host: event.hostID, message: message, atMs: event.atMs)
        }
        switch event.kind {
        case "rollout.halted":
            return alert("rollout.halted", "\(rollout) halted: \(details["reason"] ?? "no reason recorded")")
        case "rollout.completed":
            return alert("rollout.completed", "\(rollout) completed")
        case "rollout.aborted":
            return alert("rollout.aborted", "\(rollout) aborted by \(event.actor)\(details["reason"].map { ": \($0)" } ?? "")")
        case "rollout.revert-requested":
            return alert(
                "rollout.reverting",
                "\(rollout): reverting \(details["hosts"] ?? "?") in rollout \(details["revertRollout"] ?? "?"), asked by \(event.actor): \(details["reason"] ?? "")")
        case "rollout.revert-refused":
            return alert("rollout.revert-refused", "\(rollout): on_failure: revert of \(details["hosts"] ?? "?") not created: \(details["reason"] ?? "")")
        case "host.silent":
            let silent = details["silentForMs"].flatMap { Int64($0) }.map { " for \(formatDuration(ms: $0))" } ?? ""
            return alert("host.silent", "host \(host) silent\(silent) during \(rollout)")
        case "assignment.timed-out":
            return alert("host.failed", "host \(host) failed in \(rollout): \(details["reason"] ?? "no result within the apply deadline")")
        case "agent.finished":
            guard details["late"] == nil, let outcome = details["outcome"], outcome != ApplyOutcome.succeeded.rawValue else { return nil }
            let refused = outcome == ApplyOutcome.preflightFailed.rawValue || outcome == ApplyOutcome.unhealthyBeforeApply.rawValue
            return alert(
                refused ? "host.refused" : "host.failed", "host \(host) \(refused ? "refused" : "failed") in \(rollout) (\(outcome)): \(details["detail"] ?? "")")
        default:
            return nil
        }
    }
}
