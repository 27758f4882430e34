import Foundation

/// What an audit event says, in one sentence for people: the words of a postmortem's
/// timeline rather than the log's field names.
public enum AuditWording {
    /// The sentence for `event`; kinds this version does not know are shown with their
    /// actor, kind and detail fields, so nothing is hidden.
    public static func sentence(_ event: AuditEvent) -> String {
        let d = AuditDetails(event.details)
        let host = event.hostID ?? "?"
        let rollout = event.rolloutID.map { "rollout \($0)" } ?? "a rollout"
        let reason = d["reason"].map { ": " + oneLine($0) } ?? ""
        let wave = event.wave ?? "?"
        switch event.kind {
        case "token.created":
            return "\(event.actor) created operator token \(d["name"] ?? "?") (role \(d["role"] ?? "?"))"
        case "enrollment-token.created":
            return "\(event.actor) created enrollment token \(d["name"] ?? "?") (\(d["uses"] ?? "?") uses)"
        case "token.revoked":
            return "\(event.actor) revoked operator token \(d["name"] ?? "?") (\(d["keyID"] ?? "?"))\(reason)"
        case "enrollment-token.revoked":
            return "\(event.actor) revoked enrollment token \(d["name"] ?? "?") (\(d["keyID"] ?? "?"))\(reason)"
        case "audit.archived":
            return "\(event.actor) archived audit events seq \(d["firstSeq"] ?? "?")...\(d["throughSeq"] ?? "?") to \(d["file"] ?? "?") (sha256 \(d["sha256"] ?? "?"))"
        case "host.revoked":
            return "\(event.actor) revoked \(host)\(reason)"
        case "host.handed-back":
            return "\(host) handed itself back to unattended-upgrades at \(d["at"] ?? "?") (\(d["reason"] ?? "?")): " + oneLine(d["detail"] ?? "?")
        case "host.taken-over":
            return "\(host) took over from unattended-upgrades again at \(d["at"] ?? "?"): " + oneLine(d["detail"] ?? "?")
        case "assignment.cancelled", "assignment.failed":
            return "\(host)'s update in \(rollout) \(event.kind == "assignment.failed" ? "failed" : "was cancelled"): " + oneLine(d["detail"] ?? "?")
        case "host.labels_requested":
            return "\(host) asked for labels \(oneLine(d["requested"] ?? "?")); kept \(oneLine(d["labels"] ?? "?")) until an operator decides"
        case "host.labels_request_withdrawn":
            return "\(host) no longer asks for labels \(oneLine(d["requested"] ?? "?"))"
        case "host.labels_rejected":
            return "\(event.actor) rejected labels \(oneLine(d["requested"] ?? "?")) for \(host)\(reason)"
        case "host.labels_changed":
            return "\(event.actor) changed the labels of \(host) from \(oneLine(d["from"] ?? "?")) to \(oneLine(d["to"] ?? "?"))\(reason)"
        case "host.enrolled":
            return "\(host) enrolled" + (d["labels"].map { " with labels \(oneLine($0))" } ?? "")
        case "inventory.changed":
            var text = "\(host) reported its packages: \(d["installed"] ?? "?") installed, \(d["candidates"] ?? "?") upgradable (\(d["security"] ?? "?") security)"
            if let added = d["candidatesAdded"], !added.isEmpty { text += "; new: " + oneLine(added, limit: 120) }
            return text
        case "rollout.created":
            var text = "\(event.actor) created \(rollout) (policy \(d["policy"] ?? "?"))"
            if let package = event.package { text += ": " + package }
            if let waves = d["waves"] { text += "; waves " + waves }
            return text
        case "wave.approved": return "\(event.actor) approved wave \(wave) of \(rollout)\(reason)"
        case "wave.started": return "\(rollout): wave \(wave) started"
        case "wave.soaking": return "\(rollout): wave \(wave) finished applying and is soaking"
        case "wave.passed": return "\(rollout): wave \(wave) passed"
        case "rollout.paused": return "\(event.actor) paused \(rollout)\(reason)"
        case "rollout.resumed": return "\(event.actor) resumed \(rollout)\(reason)"
        case "rollout.aborted": return "\(event.actor) aborted \(rollout)\(reason)"
        case "rollout.halted": return "\(event.actor) halted \(rollout)\(reason)"
        case "rollout.completed": return "\(rollout) completed"
        case "assignment.started":
            return "\(event.actor) told \(host)" + (event.groupKey.map { " (\($0))" } ?? "") + " to apply \(rollout), wave \(wave)"
        case "host.silent":
            let silent = d["silentForMs"].flatMap { Int64($0) }.map { " for " + AuditTime.duration($0) } ?? ""
            return "\(host) silent\(silent) during \(rollout): \(d["effect"] ?? "promotion blocked")"
        case "assignment.timed-out":
            return "\(host) failed \(rollout), wave \(wave): \(d["reason"].map { oneLine($0) } ?? "no result within the apply deadline")"
        case "host.healthy":
            return "\(host) \(d["from"] == "unhealthy" ? "healthy again" : "healthy")" + (d["detail"].map { ": " + oneLine($0) } ?? "")
        case "host.unhealthy":
            return "\(host) unhealthy" + (d["detail"].map { ": " + oneLine($0) } ?? "")
        case "agent.finished":
            let outcome = d["outcome"] ?? "?"
            let detail = (d["detail"].map { ": " + oneLine($0) } ?? "") + (d["late"] != nil ? " (reported after the apply deadline)" : "")
            return "\(host) finished \(rollout): \(outcome == "succeeded" ? "succeeded" : outcome.replacingOccurrences(of: "-", with: " "))\(outcome == "succeeded" && detail == ": succeeded" ? "" : detail)"
        default:
            if event.kind.hasPrefix("agent.") {
                let step = String(event.kind.dropFirst("agent.".count))
                return "\(host) \(step.replacingOccurrences(of: "-", with: " "))" + (d["detail"].map { ": " + oneLine($0) } ?? "")
            }
            let fields = d.fields.keys.sorted().map { "\($0)=\(oneLine(d.fields[$0]!, limit: 80))" }.joined(separator: " ")
            return "\(event.actor) \(event.kind)" + (fields.isEmpty ? "" : " " + fields)
        }
    }
}
