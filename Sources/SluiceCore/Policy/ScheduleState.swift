import Foundation

/// What the controller remembers between passes of a scheduled policy.
public struct ScheduleState: Sendable, Codable, Equatable {
    public var lastRunAtMs: Int64?
    public var seenDigest: String?
    public var seenSinceMs: Int64?
    public var lastCreatedDigest: String?

    public init(lastRunAtMs: Int64? = nil, seenDigest: String? = nil, seenSinceMs: Int64? = nil, lastCreatedDigest: String? = nil) {
        self.lastRunAtMs = lastRunAtMs
        self.seenDigest = seenDigest
        self.seenSinceMs = seenSinceMs
        self.lastCreatedDigest = lastCreatedDigest
    }
}

/// Decides when a policy with a schedule gets a rollout created by the controller itself.
/// Pure: the caller supplies the time, the state and what qualifies now.
public enum SchedulePlanner {
    /// - Parameters:
    ///   - qualifyingDigest: identifies the set of candidates the policy qualifies now; `nil` when none.
    ///   - hasOpenRollout: a policy has at most one open rollout; new candidates wait for the next.
    /// - Returns: whether to create a rollout now, and the state to remember.
    public static func decide(
        _ schedule: Schedule, state: ScheduleState, qualifyingDigest: String?, hasOpenRollout: Bool, nowMs: Int64
    ) -> (create: Bool, state: ScheduleState) {
        var next = state
        switch schedule {
        case .daily(let minute, let zone):
            let slot = lastSlot(minuteOfDay: minute, timeZone: zone, nowMs: nowMs)
            guard slot > (state.lastRunAtMs ?? Int64.min), !hasOpenRollout else { return (false, next) }
            next.lastRunAtMs = nowMs
            return (qualifyingDigest != nil, next)
        case .onNewCandidates(let debounce):
            guard let digest = qualifyingDigest else {
                next.seenDigest = nil
                next.seenSinceMs = nil
                return (false, next)
            }
            if digest != state.seenDigest {
                next.seenDigest = digest
                next.seenSinceMs = nowMs
                return (false, next)
            }
            guard !hasOpenRollout, digest != state.lastCreatedDigest, let since = state.seenSinceMs, nowMs - since >= debounce * 1000 else {
                return (false, next)
            }
            next.lastCreatedDigest = digest
            next.lastRunAtMs = nowMs
            return (true, next)
        }
    }

    /// The latest daily slot (minute of day in the zone) at or before `nowMs`, honouring daylight saving.
    public static func lastSlot(minuteOfDay: Int, timeZone: String, nowMs: Int64) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!
        let now = Date(timeIntervalSince1970: Double(nowMs) / 1000)
        for dayOffset in [0, -1, -2] {
            guard let day = calendar.date(byAdding: .day, value: dayOffset, to: now) else { continue }
            var parts = calendar.dateComponents([.year, .month, .day], from: day)
            parts.hour = minuteOfDay / 60
            parts.minute = minuteOfDay % 60
            if let slot = calendar.date(from: parts), slot <= now { return Int64(slot.timeIntervalSince1970 * 1000) }
        }
        return Int64.min
    }

    /// A stable identifier of a package set.
    public static func digest(of packages: [PackagePin]) -> String? {
        packages.isEmpty ? nil : packages.map(\.description).sorted().joined(separator: " ")
    }
}
