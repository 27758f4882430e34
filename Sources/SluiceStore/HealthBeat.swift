import SluiceCore

/// One agent heartbeat, as `SluiceDatabase.recordHealth` records it.
public struct HealthBeat: Sendable, Equatable {
    /// The default of `auditIntervalMs`: a minute.
    public static let defaultAuditIntervalMs: Int64 = 60_000
    /// Changes of health a host may have audited at once, before they are limited to one
    /// per `auditIntervalMs`.
    public static let auditBurst = 4

    public var host: HostID
    public var healthy: Bool
    public var detail: String
    public var nowMs: Int64
    /// A host's changes of health are audited `auditBurst` at once, then one per interval;
    /// the others are counted and written with the next event (a flapping or hostile host
    /// writes one event per interval, not one per heartbeat). 0 audits every change.
    public var auditIntervalMs: Int64

    public init(host: HostID, healthy: Bool, detail: String, nowMs: Int64, auditIntervalMs: Int64 = HealthBeat.defaultAuditIntervalMs) {
        self.host = host
        self.healthy = healthy
        self.detail = detail
        self.nowMs = nowMs
        self.auditIntervalMs = auditIntervalMs
    }
}
