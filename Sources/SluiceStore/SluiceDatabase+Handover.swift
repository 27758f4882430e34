import Foundation
import GRDB
import SluiceCore

extension SluiceDatabase {
    /// Records that a host's agent handed it back to unattended-upgrades while it could not
    /// reach the controller, and took it over again once it could: `host.handed-back` then
    /// `host.taken-over`, in one transaction. The host's times and words are kept in the details.
    /// - Parameters:
    ///   - host: the reporting host (authenticated as itself).
    ///   - reason: why it handed back (`orphaned`).
    ///   - handedBackAtMs, handbackDetail: when, by the host's clock, and what it restored.
    ///   - takenOverAtMs, takeoverDetail: when it took over again, and what that changed.
    ///   - nowMs: the controller's time, the events' time.
    /// - Returns: the two events' sequence numbers.
    /// - Throws: `StoreError.notFound` for a host that is not enrolled.
    public func recordHandover(
        _ host: HostID, reason: String, handedBackAtMs: Int64, handbackDetail: String, takenOverAtMs: Int64, takeoverDetail: String, nowMs: Int64
    ) throws -> [Int64] {
        try writer.write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM hosts WHERE id = ? AND revoked_at_ms IS NULL", arguments: [host.rawValue]) != nil else {
                throw StoreError.notFound("host \(host) is not enrolled")
            }
            let region = try label(db, host, "region")
            let actor = Actor.agent(host).description
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: actor, kind: "host.handed-back", hostID: host.rawValue, region: region,
                    details: json(["reason": reason, "at": AuditTime.rfc3339(handedBackAtMs), "detail": handbackDetail])))
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: actor, kind: "host.taken-over", hostID: host.rawValue, region: region,
                    details: json(["at": AuditTime.rfc3339(takenOverAtMs), "detail": takeoverDetail])))
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit_events") ?? 0
            return [last - 1, last]
        }
    }
}
