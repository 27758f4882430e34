/// One row of the append-only audit log, before or after it is stored.
public struct AuditEvent: Sendable, Equatable, Codable {
    /// Position in the chain, from 1; assigned by the store.
    public var seq: Int64
    /// Milliseconds since the Unix epoch, UTC.
    public var atMs: Int64
    public var actor: String
    /// Dotted event kind, for example `host.enrolled` or `inventory.changed`.
    public var kind: String
    public var rolloutID: Int64?
    public var wave: String?
    public var hostID: String?
    public var region: String?
    public var groupKey: String?
    public var package: String?
    /// A JSON object, stored exactly as given.
    public var details: String

    public init(
        seq: Int64 = 0, atMs: Int64, actor: String, kind: String, rolloutID: Int64? = nil, wave: String? = nil,
        hostID: String? = nil, region: String? = nil, groupKey: String? = nil, package: String? = nil,
        details: String = "{}"
    ) {
        self.seq = seq
        self.atMs = atMs
        self.actor = actor
        self.kind = kind
        self.rolloutID = rolloutID
        self.wave = wave
        self.hostID = hostID
        self.region = region
        self.groupKey = groupKey
        self.package = package
        self.details = details
    }

    /// The exact bytes the chain hash covers: every field, in a fixed order, each as a
    /// 4-byte big-endian length and its UTF-8 bytes (absent fields as length 0xFFFFFFFF),
    /// so that no two different rows can serialise the same way.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + details.utf8.count)
        func field(_ value: String?) {
            guard let value else {
                out.append(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF])
                return
            }
            let count = UInt32(value.utf8.count)
            out.append(contentsOf: [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)])
            out.append(contentsOf: value.utf8)
        }
        field("sluice-audit-v1")
        field(String(seq))
        field(String(atMs))
        field(actor)
        field(kind)
        field(rolloutID.map { String($0) })
        field(wave)
        field(hostID)
        field(region)
        field(groupKey)
        field(package)
        field(details)
        return out
    }
}
