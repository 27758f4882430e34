import SluiceCore

/// One agent heartbeat, as `SluiceDatabase.recordHealth` records it.
public struct HealthBeat: Sendable, Equatable {
    public var host: HostID
    public var healthy: Bool
    public var detail: String
    public var nowMs: Int64

    public init(host: HostID, healthy: Bool, detail: String, nowMs: Int64) {
        self.host = host
        self.healthy = healthy
        self.detail = detail
        self.nowMs = nowMs
    }
}
