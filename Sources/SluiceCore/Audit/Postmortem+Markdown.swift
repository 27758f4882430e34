import Foundation

extension Postmortem {
    /// The postmortem as Markdown, modeled on a public incident report: summary, timeline,
    /// impact per redundancy group, hosts that failed, detection and halt, decisions, error
    /// budget, and how the figures were computed.
    /// - Parameters:
    ///   - zone: the reader's time zone (daylight saving time included).
    ///   - slo: the availability objective in percent, such as 99.9.
    public func markdown(zone: TimeZone, slo: Double) -> String {
        let instants = timeline.map(\.atMs) + [createdAtMs, endedAtMs].compactMap { $0 }
        let style = AuditRendering.TimeStyle(instants: instants.sorted(), zone: zone)
        func at(_ ms: Int64) -> String { style.format(ms, in: zone) }
        let budget = ErrorBudget(slo: slo)
        var out = "# Postmortem: rollout \(rolloutID)" + (policy.map { " (\($0))" } ?? "") + (packages.map { ", \($0)" } ?? "") + "\n\n"
        out += "Generated from the audit log as of \(AuditTime.rfc3339(asOfMs, in: zone)). Every figure below is computed from its events. "
        out += "All times are \(AuditTime.describe(zone, instants: instants)).\n\n"
        if let archived {
            out += "**Incomplete:** this rollout's first events are not in the log: \(archived.note). "
            out += "The figures below count only the events after seq \(archived.throughSeq).\n\n"
        }

        out += "## Summary\n\n" + summary(at) + "\n\n"

        out += "## Timeline\n\n"
        out += timeline.map { "- \(at($0.atMs)) \($0.text)\n" }.joined() + "\n"

        out += "## Impact\n\n"
        out += "| Redundancy group | Members | Most unavailable at once | Degraded | Fully down |\n|---|---|---|---|---|\n"
        for impact in impacts {
            let still = impact.ongoing ? " (still unavailable)" : ""
            out += "| \(impact.group) | \(impact.members.count) (\(impact.members.joined(separator: ", "))) | \(impact.mostUnavailable) of \(impact.members.count) "
            out += "| \(AuditTime.duration(impact.degradedMs))\(still) | \(AuditTime.duration(impact.downMs))\(still) |\n"
        }
        out += "\n"

        out += "## Hosts that failed or rolled back\n\n"
        if failures.isEmpty { out += "None.\n\n" }
        for failure in failures {
            out += "### \(failure.host): \(failure.outcome), \(at(failure.atMs))\n\n"
            out += [failure.group.map { "group \($0)" }, failure.wave.map { "wave \($0)" }].compactMap { $0 }.joined(separator: ", ")
            out += failure.group == nil && failure.wave == nil ? "" : ". "
            out += oneLine(failure.detail, limit: 1000) + "\n\n"
            if let output = failure.output { out += Self.fenced(output) + "\n" }
        }

        out += "## Detection and halt\n\n"
        if let first = firstFailureAtMs {
            out += "| Moment | Time | After the first failure |\n|---|---|---|\n"
            out += "| First failure began | \(at(first)) | |\n"
            if let detected = detectedAtMs { out += "| Controller recorded it | \(at(detected)) | \(AuditTime.duration(detected - first)) |\n" }
            if let halted = haltedAtMs { out += "| Rollout \(state) | \(at(halted)) | \(AuditTime.duration(halted - first)) |\n" }
            out += "\n"
        } else {
            out += "No host failed or reported unhealthy during the rollout.\n\n"
        }

        out += "## Decisions\n\n| Time | Who | Decision | Reason |\n|---|---|---|---|\n"
        for d in decisions { out += "| \(at(d.atMs)) | \(d.actor) | \(d.action) | \(Self.cell(d.reason ?? "")) |\n" }
        if let endedAtMs, let endedBy, state != "aborted" {
            out += "| \(at(endedAtMs)) | \(endedBy) | \(state) the rollout | \(Self.cell(endReason ?? "")) |\n"
        }
        out += "\n"

        out += "## Reverts\n\n"
        out += reverts.isEmpty ? "None asked.\n\n" : reverts.map { "- \(at($0.atMs)) \(oneLine($0.text, limit: 1000))\n" }.joined() + "\n"

        out += "## Error budget\n\n"
        out += "SLO \(Self.percent(slo)) %: \(AuditTime.duration(budget.budgetMs)) of unavailability in a 30-day month.\n\n"
        out += "| Redundancy group | Fully down | Share of the budget | Degraded or down | Share of the budget |\n|---|---|---|---|---|\n"
        for impact in impacts {
            out += "| \(impact.group) | \(AuditTime.duration(impact.downMs)) | \(budget.share(impact.downMs)) "
            out += "| \(AuditTime.duration(impact.impactedMs)) | \(budget.share(impact.impactedMs)) |\n"
        }
        out += "\n" + Self.method
        return out
    }

    func summary(_ at: (Int64) -> String) -> String {
        var text = "Rollout \(rolloutID)" + (policy.map { " of policy \($0)" } ?? "") + (packages.map { " (\($0))" } ?? "")
        text += createdAtMs.map { " was created" + (createdBy.map { " by \($0)" } ?? "") + " on \(at($0))" } ?? ""
        if let endedAtMs {
            text += " and \(state)" + (endedBy.map { " by \($0)" } ?? "") + " on \(at(endedAtMs))" + (endReason.map { ": \(oneLine($0))" } ?? "") + "."
        } else {
            text += "; it has not ended."
        }
        if failures.isEmpty {
            text += " No host failed or rolled back."
        } else {
            text += " \(failures.count) host\(failures.count == 1 ? "" : "s") failed or rolled back: "
            text += failures.map { "\($0.host) (\($0.outcome))" }.joined(separator: ", ") + "."
        }
        let hit = impacts.filter { $0.impactedMs > 0 }
        text += " \(hit.count) of \(impacts.count) redundancy group\(impacts.count == 1 ? "" : "s") lost capacity"
        let down = impacts.filter { $0.downMs > 0 }
        text += down.isEmpty ? "; none was ever fully down." : "; fully down: " + down.map { "\($0.group) for \(AuditTime.duration($0.downMs))" }.joined(separator: ", ") + "."
        if let first = firstFailureAtMs {
            text += " The first failure began on \(at(first))"
            if let detectedAtMs { text += "; the controller recorded it \(AuditTime.duration(detectedAtMs - first)) later" }
            if let haltedAtMs { text += " and the rollout was \(state) \(AuditTime.duration(haltedAtMs - first)) after it began" }
            text += "."
        }
        return text
    }

    /// `output` in a code fence longer than any run of backticks inside it.
    static func fenced(_ output: String) -> String {
        var longest = 0, run = 0
        for character in output {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return fence + "\n" + output + (output.hasSuffix("\n") ? "" : "\n") + fence + "\n"
    }

    static func cell(_ text: String) -> String { oneLine(text).replacingOccurrences(of: "|", with: "\\|") }

    static func percent(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    static let method = """
        ## How these figures are computed

        - A host is unavailable from its agent's `restarted` step (its services restarted on the new versions) until its \
        `healthy` step or its `finished` report; if it finished `failed`, until its next `host.healthy`. A rollback before \
        the restart costs nothing: the old daemon kept serving under the restart hold. A `host.unhealthy` report makes a \
        host unavailable until its next `host.healthy`; such reports count while the rollout ran or the damage it did lasted.
        - A redundancy group is degraded while some but not all of its members are unavailable, and fully down while all \
        are. Members are the group's hosts in this rollout, started or not.
        - The first failure is the start of the unavailability behind the earliest failure report (or the report itself \
        when the host kept serving); the controller's record is the first `agent.rolled-back`, failed `agent.finished`, \
        `host.unhealthy`, `host.silent` or `assignment.timed-out` event.
        - The error budget is the SLO's allowance over a 30-day month; each group's use is shown twice: fully down only, and \
        degraded or down (the reading a public postmortem would give clients who depend on one member).

        """
}
