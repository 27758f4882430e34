/// A postmortem of one rollout, every figure computed from its audit events.
///
/// Pure: `init(history:)` analyses, `markdown(zone:slo:)` writes. Nothing here is typed by
/// hand; the rules behind each figure are in the types' documentation and at the end of
/// the Markdown.
public struct Postmortem: Sendable, Equatable {
    /// A host whose apply ended other than `succeeded`.
    public struct HostFailure: Sendable, Equatable {
        public var host: String
        public var group: String?
        public var wave: String?
        /// The agent's outcome: `failed`, `rolled-back-before-restart`, ...
        public var outcome: String
        public var atMs: Int64
        public var detail: String
        /// The output of the command or check that decided it.
        public var output: String?
    }

    /// An operator's (or the controller's) decision on the rollout.
    public struct Decision: Sendable, Equatable {
        public var atMs: Int64
        public var actor: String
        /// `created the rollout`, `approved wave canary`, `paused`, ...
        public var action: String
        public var reason: String?
    }

    /// One line of the timeline: an event, or a change of a group's state derived from them.
    public struct Line: Sendable, Equatable {
        public var atMs: Int64
        /// The event's sequence number; `nil` for a derived line.
        public var seq: Int64?
        public var text: String
    }

    public let rolloutID: Int64
    public let policy: String?
    public let packages: String?
    public let createdAtMs: Int64?
    public let createdBy: String?
    /// `halted`, `completed`, `aborted`, or `running` while no end event exists.
    public let state: String
    public let endedAtMs: Int64?
    public let endedBy: String?
    public let endReason: String?
    /// Until when other hosts' health counts against the rollout: its end, or the moment
    /// the last host it made unavailable was available again, whichever is later.
    public let windowEndMs: Int64
    public let asOfMs: Int64
    public let unavailability: [Interval]
    public let impacts: [GroupImpact]
    public let failures: [HostFailure]
    /// When the earliest failure began: the start of the unavailability that led to a failure
    /// report, or the report itself when the host was still serving.
    public let firstFailureAtMs: Int64?
    /// The controller's first record of a failure: an `agent.rolled-back`, a non-succeeded
    /// `agent.finished`, a `host.unhealthy`, a `host.silent` or an `assignment.timed-out`.
    public let detectedAtMs: Int64?
    /// The `rollout.halted` event (or `rollout.aborted`).
    public let haltedAtMs: Int64?
    public let decisions: [Decision]
    /// What was done to put hosts back on their previous versions: each revert asked (by an
    /// operator or `on_failure: revert`), refused, and each host's revert outcome, in order.
    public let reverts: [Line]
    public let timeline: [Line]
    /// The archive holding the rollout's first events, when they are no longer in the log.
    public let archived: AuditArchiveAnchor?

    /// The kinds shown in a postmortem's timeline (agent steps that change nothing for
    /// clients, such as `agent.installed`, are left to `sluicectl audit`).
    public static let timelineKinds: Set<String> = [
        "rollout.created", "wave.approved", "wave.started", "wave.soaking", "wave.passed", "rollout.paused", "rollout.resumed",
        "rollout.aborted", "rollout.halted", "rollout.completed", "assignment.started", "agent.restarted", "agent.rolled-back",
        "agent.finished", "host.unhealthy", "host.healthy", "host.silent", "assignment.timed-out", "rollout.revert-requested",
        "rollout.revert-refused", "revert.finished",
    ]

    public init(history: RolloutHistory) {
        let id = history.rolloutID
        let events = history.events.sorted { $0.seq < $1.seq }
        let mine = events.filter { $0.rolloutID == id }
        let created = mine.first { $0.kind == "rollout.created" }
        let end = mine.first { RolloutHistory.endKinds.contains($0.kind) }
        rolloutID = id
        archived = history.archived
        policy = created.flatMap { AuditDetails($0.details)["policy"] }
        packages = created?.package
        createdAtMs = created?.atMs ?? events.first?.atMs
        createdBy = created?.actor
        state = end.map { String($0.kind.dropFirst("rollout.".count)) } ?? "running"
        endedAtMs = end?.atMs
        endedBy = end?.actor
        endReason = end.flatMap { AuditDetails($0.details)["reason"] }
        let asOf = max(history.asOfMs, events.last?.atMs ?? 0)
        asOfMs = asOf
        let start = createdAtMs ?? 0

        // Unavailability: this rollout's intervals always count; other health reports of its
        // hosts count while the rollout or the damage it did lasted.
        let all = Self.intervals(events, rolloutID: id, asOfMs: asOf)
        var windowEnd = end?.atMs ?? asOf
        for interval in all where interval.causedByRollout { windowEnd = max(windowEnd, interval.toMs) }
        windowEndMs = windowEnd
        let counted = all.filter { $0.causedByRollout || ($0.fromMs >= start && $0.fromMs <= windowEnd) }
        unavailability = counted

        var groups = history.groups.mapValues { Set($0) }
        for event in mine { if let group = event.groupKey, let host = event.hostID { groups[group, default: []].insert(host) } }
        let groupImpacts = groups.keys.sorted().map { Postmortem.impact(group: $0, members: groups[$0]!.sorted(), intervals: counted, fromMs: start) }
        impacts = groupImpacts
        let groupOf = Dictionary(groups.flatMap { group, hosts in hosts.map { ($0, group) } }, uniquingKeysWith: min)

        // Hosts that failed or rolled back, with the output that decided it; a host silent past
        // its apply deadline failed by that silence (what it reported later is the timeline's).
        var found = mine.filter { $0.kind == "agent.finished" || $0.kind == "assignment.timed-out" }.compactMap { finished -> HostFailure? in
            let details = AuditDetails(finished.details)
            if finished.kind == "assignment.timed-out", let host = finished.hostID {
                return HostFailure(
                    host: host, group: finished.groupKey ?? groupOf[host], wave: finished.wave, outcome: "timed-out", atMs: finished.atMs,
                    detail: details["reason"] ?? "no result within the apply deadline", output: nil)
            }
            guard let host = finished.hostID, let outcome = details["outcome"], outcome != "succeeded", details["late"] == nil else { return nil }
            let earlier = mine.filter { $0.hostID == host && $0.kind.hasPrefix("agent.") && $0.seq <= finished.seq }
            let output = ([finished] + earlier.reversed()).lazy.compactMap { AuditDetails($0.details)["output"] }.first { !$0.isEmpty }
            return HostFailure(
                host: host, group: finished.groupKey ?? groupOf[host], wave: finished.wave, outcome: outcome, atMs: finished.atMs,
                detail: details["detail"] ?? "", output: output)
        }
        // A host updated by a soaking wave that went silent: its silence halted the rollout.
        // The reconciler's reason reads "wave W: host H silent during soak (...)".
        let words = endReason?.split(separator: " ").map(String.init) ?? []
        if let end, end.kind == "rollout.halted", let reason = endReason,
            let at = words.indices.first(where: { $0 + 4 < words.count && words[$0] == "host" && words[($0 + 2)...($0 + 4)] == ["silent", "during", "soak"] })
        {
            let host = words[at + 1]
            let silence = mine.last { $0.kind == "host.silent" && $0.hostID == host }
            found.append(
                HostFailure(
                    host: host, group: silence?.groupKey ?? groupOf[host], wave: end.wave, outcome: "silent", atMs: end.atMs,
                    detail: "no heartbeat during its wave's soak: \(reason)", output: nil))
        }
        failures = found

        // Detection: the first failure report, and when the failure it reports began.
        let reports = events.filter { event in
            guard let host = event.hostID, groupOf[host] != nil || event.rolloutID == id else { return false }
            switch event.kind {
            case "agent.rolled-back": return event.rolloutID == id
            case "agent.finished": return event.rolloutID == id && AuditDetails(event.details)["outcome"] != "succeeded"
            case "host.silent", "assignment.timed-out": return event.rolloutID == id
            case "host.unhealthy": return event.atMs >= start && event.atMs <= (end?.atMs ?? asOf)
            default: return false
            }
        }
        detectedAtMs = reports.map(\.atMs).min()
        firstFailureAtMs = reports.map { report in
            all.first { $0.host == report.hostID && $0.contains(report.atMs) }?.fromMs ?? report.atMs
        }.min()
        haltedAtMs = end.flatMap { $0.kind == "rollout.completed" ? nil : $0.atMs }

        decisions = mine.compactMap { event in
            let action: String
            switch event.kind {
            case "rollout.created": action = "created the rollout"
            case "wave.approved": action = "approved wave \(event.wave ?? "?")"
            case "rollout.paused": action = "paused"
            case "rollout.resumed": action = "resumed"
            case "rollout.aborted": action = "aborted"
            default: return nil
            }
            return Decision(atMs: event.atMs, actor: event.actor, action: action, reason: AuditDetails(event.details)["reason"])
        }
        reverts = mine.compactMap { event in
            let details = AuditDetails(event.details)
            let text: String
            switch event.kind {
            case "rollout.revert-requested":
                text = "\(event.actor) asked to revert \(details["hosts"] ?? "?") to \(details["versions"] ?? "?") (rollout \(details["revertRollout"] ?? "?")): \(details["reason"] ?? "")"
            case "rollout.revert-refused":
                text = "revert of \(details["hosts"] ?? "?") not created: \(details["reason"] ?? "")"
            case "revert.finished":
                text = "\(event.hostID ?? "?") revert \(details["state"] ?? "?") (\(details["outcome"] ?? "?")) to \(details["versions"] ?? "?"): \(details["detail"] ?? "")"
            default:
                return nil
            }
            return Line(atMs: event.atMs, seq: event.seq, text: text)
        }
        timeline = Self.timeline(
            events: events, rolloutID: id, members: Set(groupOf.keys), start: start, windowEnd: windowEnd, intervals: counted,
            impacts: groupImpacts, asOfMs: asOf)
    }

    static func timeline(
        events: [AuditEvent], rolloutID: Int64, members: Set<String>, start: Int64, windowEnd: Int64, intervals: [Interval],
        impacts: [GroupImpact], asOfMs: Int64
    ) -> [Line] {
        var lines: [(Line, Int)] = []
        for event in events where timelineKinds.contains(event.kind) {
            if event.rolloutID != rolloutID {
                // Another source's health report: shown while it matters to this rollout.
                guard let host = event.hostID, members.contains(host) else { continue }
                let inWindow = event.atMs >= start && event.atMs <= windowEnd
                let closesCounted = event.kind == "host.healthy" && intervals.contains { $0.host == host && $0.toMs == event.atMs }
                guard inWindow || closesCounted else { continue }
            }
            lines.append((Line(atMs: event.atMs, seq: event.seq, text: AuditWording.sentence(event)), 0))
        }
        for impact in impacts {
            let total = impact.members.count
            for change in impact.changes where !(impact.ongoing && change.atMs == asOfMs && change.unavailable == 0) {
                let text: String
                if change.unavailable == 0 {
                    text = "\(impact.group) back to full strength: all \(total) member\(total == 1 ? "" : "s") available"
                } else if change.unavailable >= total {
                    text = "\(impact.group) fully down: \(change.unavailable) of \(total) member\(total == 1 ? "" : "s") unavailable"
                } else {
                    text = "\(impact.group) degraded: \(change.unavailable) of \(total) members unavailable"
                }
                lines.append((Line(atMs: change.atMs, seq: nil, text: text), 1))
            }
        }
        return lines.sorted { a, b in
            (a.0.atMs, a.1, a.0.seq ?? 0, a.0.text) < (b.0.atMs, b.1, b.0.seq ?? 0, b.0.text)
        }.map(\.0)
    }
}
