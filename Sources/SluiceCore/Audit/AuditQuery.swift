/// Which audit events to read: every filter that is set must hold (they combine with AND).
///
/// The store turns it into one indexed SQL query; `matches(_:)` is the same rule in Swift,
/// the reference the store's SQL is tested against.
public struct AuditQuery: Sendable, Equatable, Codable {
    /// Which end of the matching events a limited answer keeps. Either way the answer is in
    /// sequence order.
    public enum Take: String, Sendable, Codable, CaseIterable {
        /// The oldest matching events (paging forward with `afterSeq`).
        case first
        /// The newest matching events (the tail of the log).
        case last
    }

    /// Events at or after this instant (ms since the epoch, UTC).
    public var sinceMs: Int64?
    /// Events strictly before this instant.
    public var untilMs: Int64?
    public var rolloutID: Int64?
    public var hostID: String?
    public var region: String?
    /// A redundancy group key, such as `dns-resolver@osc-fr1`.
    public var group: String?
    /// A package name (`bind9`) or an exact pin (`bind9=1:9.18.28-1`), matched against the
    /// space-separated pins of the event's `package` column.
    public var package: String?
    /// An actor (`operator:alice`), or a prefix ending in `*` (`operator:*`).
    public var actor: String?
    /// A kind (`rollout.halted`), or a prefix ending in `*` (`agent.*`).
    public var kind: String?
    /// Only events with a larger sequence number: the cursor for paging.
    public var afterSeq: Int64?
    /// Only events with this sequence number or a smaller one.
    public var throughSeq: Int64?
    public var limit: Int
    public var take: Take

    /// The most events one answer may hold.
    public static let maximumLimit = 100_000

    public init(
        sinceMs: Int64? = nil, untilMs: Int64? = nil, rolloutID: Int64? = nil, hostID: String? = nil, region: String? = nil,
        group: String? = nil, package: String? = nil, actor: String? = nil, kind: String? = nil, afterSeq: Int64? = nil,
        throughSeq: Int64? = nil, limit: Int = 1000, take: Take = .first
    ) {
        self.sinceMs = sinceMs
        self.untilMs = untilMs
        self.rolloutID = rolloutID
        self.hostID = hostID
        self.region = region
        self.group = group
        self.package = package
        self.actor = actor
        self.kind = kind
        self.afterSeq = afterSeq
        self.throughSeq = throughSeq
        self.limit = limit
        self.take = take
    }

    /// An exact value or a prefix, as `--actor` and `--kind` take them.
    public enum TextMatch: Sendable, Equatable {
        case exact(String)
        case prefix(String)

        /// `agent.*` is the prefix `agent.`; anything else is exact.
        public init(_ pattern: String) {
            self = pattern.hasSuffix("*") ? .prefix(String(pattern.dropLast())) : .exact(pattern)
        }

        public func matches(_ value: String) -> Bool {
            switch self {
            case .exact(let text): value == text
            case .prefix(let text): value.hasPrefix(text)
            }
        }
    }

    /// Refuses filters no event could sensibly match, with a message naming the filter.
    public func validate() throws(InvalidInput) {
        guard (1...Self.maximumLimit).contains(limit) else {
            throw InvalidInput("limit: must be between 1 and \(Self.maximumLimit), not \(limit)")
        }
        if let sinceMs, let untilMs, untilMs <= sinceMs {
            throw InvalidInput("until must be later than since")
        }
        if let rolloutID, rolloutID <= 0 { throw InvalidInput("rollout: must be a positive whole number") }
        let texts: [(String, String?)] = [
            ("host", hostID), ("region", region), ("group", group), ("package", package), ("actor", actor), ("kind", kind),
        ]
        for (name, value) in texts {
            guard let value else { continue }
            guard !value.isEmpty, value.utf8.count <= 300,
                value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
            else {
                throw InvalidInput("\(name): 1 to 300 printable characters without spaces, not \(quoted(value))")
            }
            let wildcards = value.filter { $0 == "*" }.count
            let patternAllowed = name == "actor" || name == "kind"
            guard wildcards == 0 || (patternAllowed && wildcards == 1 && value.hasSuffix("*")) else {
                throw InvalidInput(
                    patternAllowed
                        ? "\(name): \(quoted(value)) may hold one * and only at the end (a prefix such as agent.*)"
                        : "\(name): \(quoted(value)) may not contain *")
            }
        }
    }

    /// Whether `event` passes every filter; the sequence cursors included, the limit not.
    public func matches(_ event: AuditEvent) -> Bool {
        if let sinceMs, event.atMs < sinceMs { return false }
        if let untilMs, event.atMs >= untilMs { return false }
        if let afterSeq, event.seq <= afterSeq { return false }
        if let throughSeq, event.seq > throughSeq { return false }
        if let rolloutID, event.rolloutID != rolloutID { return false }
        if let hostID, event.hostID != hostID { return false }
        if let region, event.region != region { return false }
        if let group, event.groupKey != group { return false }
        if let package, !Self.packageColumn(event.package, contains: package) { return false }
        if let actor, !TextMatch(actor).matches(event.actor) { return false }
        if let kind, !TextMatch(kind).matches(event.kind) { return false }
        return true
    }

    /// Whether a `package` column (`bind9=1:9.18.28-1 libc6=2.36-9`) holds the name or the
    /// exact pin `filter`.
    public static func packageColumn(_ column: String?, contains filter: String) -> Bool {
        guard let column else { return false }
        return column.split(separator: " ").contains { $0 == filter || $0.hasPrefix(filter + "=") }
    }
}
