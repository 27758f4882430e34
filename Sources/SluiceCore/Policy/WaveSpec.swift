import Foundation

/// One wave of a policy: which hosts, in what order, and what must hold before it starts.
public struct WaveSpec: Sendable, Codable, Equatable {
    public var name: String
    /// Label requirements: every key must be present with one of the listed values.
    public var selector: [String: [String]]
    public var strategy: WaveStrategy
    /// How long the wave's hosts must stay healthy after the last one succeeded.
    public var soakSeconds: Int64
    public var approval: Approval
    /// How many hosts of the wave may fail before the rollout halts (0: the first failure halts).
    public var failureBudget: Int
    /// When non-empty, the wave starts hosts only inside one of these windows.
    public var windows: [MaintenanceWindow]
    /// Days (in the window's zone, `YYYY-MM-DD`) on which nothing starts.
    public var blackoutDates: [String]
    /// How long a host may take from being told to go until its result: past it, the host has
    /// failed (silence is failure), which counts against the failure budget.
    public var applyDeadlineSeconds: Int64

    /// The apply deadline when a policy names none: 30 minutes.
    public static let defaultApplyDeadlineSeconds: Int64 = 1800

    public init(
        name: String, selector: [String: [String]], strategy: WaveStrategy = .all, soakSeconds: Int64 = 0,
        approval: Approval = .auto, failureBudget: Int = 0, windows: [MaintenanceWindow] = [], blackoutDates: [String] = [],
        applyDeadlineSeconds: Int64 = WaveSpec.defaultApplyDeadlineSeconds
    ) {
        self.name = name
        self.selector = selector
        self.strategy = strategy
        self.soakSeconds = soakSeconds
        self.approval = approval
        self.failureBudget = failureBudget
        self.windows = windows
        self.blackoutDates = blackoutDates
        self.applyDeadlineSeconds = applyDeadlineSeconds
    }

    private enum CodingKeys: String, CodingKey {
        case name, selector, strategy, soakSeconds, approval, failureBudget, windows, blackoutDates, applyDeadlineSeconds
    }

    /// Rollouts keep the policy they were created with: one stored before apply deadlines
    /// existed gets the default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name), selector: try c.decode([String: [String]].self, forKey: .selector),
            strategy: try c.decode(WaveStrategy.self, forKey: .strategy), soakSeconds: try c.decode(Int64.self, forKey: .soakSeconds),
            approval: try c.decode(Approval.self, forKey: .approval), failureBudget: try c.decode(Int.self, forKey: .failureBudget),
            windows: try c.decode([MaintenanceWindow].self, forKey: .windows), blackoutDates: try c.decode([String].self, forKey: .blackoutDates),
            applyDeadlineSeconds: try c.decodeIfPresent(Int64.self, forKey: .applyDeadlineSeconds) ?? WaveSpec.defaultApplyDeadlineSeconds)
    }

    public func selects(_ labels: Labels) -> Bool {
        selector.allSatisfy { key, values in labels[key].map(values.contains) ?? false }
    }

    /// Whether a host may start in this wave at `nowMs`: inside a window (if any), not on a blackout date.
    public func isOpen(atMs nowMs: Int64) -> Bool {
        let date = Date(timeIntervalSince1970: Double(nowMs) / 1000)
        if !blackoutDates.isEmpty {
            let zone = windows.first.flatMap { TimeZone(identifier: $0.timeZone) } ?? TimeZone(identifier: "UTC")!
            if blackoutDates.contains(MaintenanceWindow.day(of: date, in: zone)) { return false }
        }
        return windows.isEmpty || windows.contains { $0.contains(date) }
    }
}

public enum WaveStrategy: Sendable, Codable, Equatable {
    /// Every selected host, limited only by `max_unavailable` per group.
    case all
    /// One host of each redundancy group (the canaries); the other members are left to later waves.
    case onePerGroup
    /// Batches of this many hosts, each starting after the previous one succeeded.
    case batches(size: BatchSize)
}

public enum BatchSize: Sendable, Codable, Equatable {
    case hosts(Int)
    case percent(Int)

    /// The batch size for a wave of `count` hosts (at least 1).
    public func hosts(of count: Int) -> Int {
        switch self {
        case .hosts(let n): max(1, n)
        case .percent(let p): max(1, (count * p + 99) / 100)
        }
    }
}

public enum Approval: String, Sendable, Codable, Equatable {
    case auto, manual
}

/// Days of the week and a time span in a zone. `endMinute` may be below `startMinute` for
/// a window that crosses midnight (it then belongs to the day it starts on).
public struct MaintenanceWindow: Sendable, Codable, Equatable {
    /// 1 = Sunday ... 7 = Saturday, as `Calendar` numbers them.
    public var weekdays: Set<Int>
    public var startMinute: Int
    public var endMinute: Int
    public var timeZone: String

    public init(weekdays: Set<Int>, startMinute: Int, endMinute: Int, timeZone: String) {
        self.weekdays = weekdays
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.timeZone = timeZone
    }

    public func contains(_ date: Date) -> Bool {
        guard let zone = TimeZone(identifier: timeZone) else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let weekday = parts.weekday ?? 0
        if startMinute <= endMinute {
            return weekdays.contains(weekday) && minute >= startMinute && minute < endMinute
        }
        // Crosses midnight: the evening part on a listed day, or the morning part after one.
        let previous = weekday == 1 ? 7 : weekday - 1
        return (weekdays.contains(weekday) && minute >= startMinute) || (weekdays.contains(previous) && minute < endMinute)
    }

    static func day(of date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let p = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", p.year ?? 0, p.month ?? 0, p.day ?? 0)
    }
}
