extension Postmortem {
    /// A stretch of time during which one host was unavailable.
    ///
    /// The rule, from the events agents and the controller record:
    /// - `agent.restarted`: the host's services restarted on the new versions; it is
    ///   unavailable until its `agent.healthy` (health checks passed, on the new versions or
    ///   after a rollback) or its `agent.finished`. Before the restart the old daemon still
    ///   serves under the restart hold, so a rollback before restart costs nothing.
    /// - `agent.finished` with outcome `failed`: unavailable (from the restart, if it was
    ///   already down) until the host's next `host.healthy`.
    /// - `host.unhealthy`: unavailable until the host's next `host.healthy`.
    /// - `host.healthy`: available.
    /// An interval still open at the end of the record ends there and is marked `ongoing`.
    public struct Interval: Sendable, Equatable {
        public var host: String
        public var fromMs: Int64
        public var toMs: Int64
        public var ongoing: Bool
        /// Whether this rollout's own agent reports made the host unavailable (rather than a
        /// health report alone).
        public var causedByRollout: Bool

        public init(host: String, fromMs: Int64, toMs: Int64, ongoing: Bool, causedByRollout: Bool) {
            self.host = host
            self.fromMs = fromMs
            self.toMs = toMs
            self.ongoing = ongoing
            self.causedByRollout = causedByRollout
        }

        public func contains(_ ms: Int64) -> Bool { fromMs <= ms && ms <= toMs }
    }

    /// Every unavailability interval of every host in `events`, in order of start, by the
    /// rule above; intervals still open at `asOfMs` end there, marked `ongoing`.
    /// - Parameters:
    ///   - events: in sequence order.
    ///   - rolloutID: whose agent reports count as the rollout's own.
    public static func intervals(_ events: [AuditEvent], rolloutID: Int64, asOfMs: Int64) -> [Interval] {
        struct HostState {
            var apply = false, failed = false, reported = false
            var since: Int64 = 0
            var byRollout = false
            var down: Bool { apply || failed || reported }
        }
        var states: [String: HostState] = [:]
        var out: [Interval] = []
        for event in events {
            guard let host = event.hostID else { continue }
            var state = states[host] ?? HostState()
            let wasDown = state.down
            let mine = event.rolloutID == rolloutID
            switch event.kind {
            case "agent.restarted" where mine:
                state.apply = true
            case "agent.healthy" where mine:
                state.apply = false
            case "agent.finished" where mine:
                if AuditDetails(event.details)["outcome"] == "failed" { state.failed = true }
                state.apply = false
            case "host.unhealthy":
                state.reported = true
            case "host.healthy":
                state = HostState()
            default:
                break
            }
            if state.down && mine && (state.apply || state.failed) { state.byRollout = true }
            if !wasDown && state.down {
                state.since = event.atMs
            } else if wasDown && !state.down {
                out.append(Interval(host: host, fromMs: states[host]!.since, toMs: event.atMs, ongoing: false, causedByRollout: states[host]!.byRollout))
                state.byRollout = false
            }
            states[host] = state
        }
        for (host, state) in states where state.down {
            out.append(Interval(host: host, fromMs: state.since, toMs: max(state.since, asOfMs), ongoing: true, causedByRollout: state.byRollout))
        }
        return out.sorted { ($0.fromMs, $0.host) < ($1.fromMs, $1.host) }
    }

    /// How one redundancy group fared.
    public struct GroupImpact: Sendable, Equatable {
        public var group: String
        public var members: [String]
        /// The most members unavailable at the same time (for any positive duration).
        public var mostUnavailable: Int
        /// Time with some but not all members unavailable.
        public var degradedMs: Int64
        /// Time with every member unavailable.
        public var downMs: Int64
        /// Some member was still unavailable at the end of the record.
        public var ongoing: Bool
        /// The group's state after each change, for the timeline.
        public var changes: [(atMs: Int64, unavailable: Int)]

        /// Degraded or down.
        public var impactedMs: Int64 { degradedMs + downMs }

        public static func == (a: GroupImpact, b: GroupImpact) -> Bool {
            a.group == b.group && a.members == b.members && a.mostUnavailable == b.mostUnavailable && a.degradedMs == b.degradedMs
                && a.downMs == b.downMs && a.ongoing == b.ongoing && a.changes.map(\.atMs) == b.changes.map(\.atMs)
                && a.changes.map(\.unavailable) == b.changes.map(\.unavailable)
        }
    }

    /// Sweeps the members' intervals: at equal instants a host coming back counts before
    /// another going down, so touching intervals never overlap.
    static func impact(group: String, members: [String], intervals: [Interval], fromMs: Int64) -> GroupImpact {
        let mine = intervals.filter { members.contains($0.host) }
        var edges: [(at: Int64, delta: Int)] = []
        for interval in mine {
            let from = max(interval.fromMs, fromMs)
            guard interval.toMs > from else { continue }
            edges.append((from, 1))
            edges.append((interval.toMs, -1))
        }
        edges.sort { ($0.at, $0.delta) < ($1.at, $1.delta) }
        var count = 0, most = 0
        var degraded: Int64 = 0, down: Int64 = 0
        var changes: [(atMs: Int64, unavailable: Int)] = []
        var index = 0
        while index < edges.count {
            let at = edges[index].at
            while index < edges.count && edges[index].at == at {
                count += edges[index].delta
                index += 1
            }
            if changes.last?.unavailable != count && !(changes.isEmpty && count == 0) { changes.append((at, count)) }
            guard index < edges.count else { break }
            let length = edges[index].at - at
            if count > 0 && length > 0 {
                most = max(most, count)
                if count >= members.count { down += length } else { degraded += length }
            }
        }
        return GroupImpact(
            group: group, members: members, mostUnavailable: most, degradedMs: degraded, downMs: down,
            ongoing: mine.contains { $0.ongoing }, changes: changes)
    }

    /// What `--slo` allows and what each group used of it.
    public struct ErrorBudget: Sendable, Equatable {
        /// The SLO, in percent (99.9).
        public var slo: Double
        /// Unavailability allowed in a 30-day month: 43.2 minutes at 99.9 %.
        public var budgetMs: Int64

        public init(slo: Double) {
            self.slo = slo
            budgetMs = Int64(((100 - slo) / 100 * 30 * 86_400_000).rounded())
        }

        /// `used` as a percentage of the budget, one decimal.
        public func share(_ used: Int64) -> String {
            guard budgetMs > 0 else { return used > 0 ? "over (no budget)" : "0.0 %" }
            let tenths = (used * 1000 + budgetMs / 2) / budgetMs
            return "\(tenths / 10).\(tenths % 10) %"
        }
    }
}
