/// Everything the audit log says about one rollout, as a postmortem needs it.
public struct RolloutHistory: Sendable, Equatable, Codable {
    public var rolloutID: Int64
    /// In sequence order: every event of the rollout, and the health changes
    /// (`host.healthy`, `host.unhealthy`) of its hosts from the rollout's creation until
    /// each was healthy again after its end.
    public var events: [AuditEvent]
    /// Redundancy group to its hosts in this rollout, started or not.
    public var groups: [String: [String]]
    /// The newest instant the log holds: intervals still open end here.
    public var asOfMs: Int64
    /// Set when the rollout's first events were archived (`sluiced audit archive`): the
    /// events above are only those after the anchor.
    public var archived: AuditArchiveAnchor?

    public init(rolloutID: Int64, events: [AuditEvent], groups: [String: [String]], asOfMs: Int64, archived: AuditArchiveAnchor? = nil) {
        self.rolloutID = rolloutID
        self.events = events
        self.groups = groups
        self.asOfMs = asOfMs
        self.archived = archived
    }

    /// The kinds that end a rollout.
    public static let endKinds: Set<String> = ["rollout.halted", "rollout.completed", "rollout.aborted"]
}
