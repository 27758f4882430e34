import Foundation
import Hummingbird
import Logging
import SluiceAPI
import SluiceCore
import SluiceStore
import SluiceTLS

/// Hosts, their reports and the fleet's pending updates.
struct FleetRoutes {
    let database: SluiceDatabase
    let clock: any WallClock
    let settings: ControllerSettings
    /// Signs agents' client certificates at enrollment (mutual TLS), when configured.
    var authority: CertificateAuthority?
    /// Enrollments per source address (loopback exempt: see `AuthenticationMiddleware`).
    var enrollmentLimiter = RateLimiter(ControllerSettings().enrollmentRateLimit)
    /// Full inventory reports per host, by cost (`ControllerSettings.inventoryBudget`).
    var inventoryLimiter = RateLimiter(ControllerSettings().inventoryBudget)
    /// Inventories are parsed one at a time, on a thread of their own (one per process).
    static let inventoryLane = SerialLane(label: "sluiced.inventory")

    /// A full inventory costs one per started MiB of its body, taken from the host's budget
    /// before the body is parsed: over it, 429 and nothing is read.
    func chargeInventory(host: HostID, bytes: Int) throws {
        let cost = Double(max(1, (bytes + (1 << 20) - 1) >> 20))
        guard let wait = inventoryLimiter.take("host:\(host.rawValue)", cost: cost) else { return }
        let seconds = max(1, Int(wait.rounded(.up)))
        throw APIError(
            status: .tooManyRequests, code: "inventory_budget",
            message:
                "host \(host): full inventory reports over this host's budget (\(Int(inventoryLimiter.limit.burst)) at once, \(Self.perMinute(inventoryLimiter.limit)) a minute, one per MiB): retry in \(seconds) s",
            retryAfterSeconds: seconds)
    }

    static func perMinute(_ limit: ControllerSettings.RateLimit) -> String {
        let value = limit.perSecond * 60
        return value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    func register(on api: APIRouter) {
        api.add(.health) { _, _, _ in
            JSONResponse(HealthResponse(status: "ok", version: SluiceVersion.current))
        }

        api.add(.enroll) { request, context, caller in
            guard case .enrollment(_, let keyID) = caller.principal else { throw APIError.forbidden("an enrollment token is required") }
            try AuthenticationMiddleware.limitAddress(enrollmentLimiter, context.remoteAddress)
            let enrollment = try await request.decodeJSON(EnrollRequest.self, context: context)
            // Agent routes will refuse a host without the certificate only enrollment hands out:
            // enrolling one without a request would spend a use of the token on a host id that
            // can never report, nor ever enroll again.
            if settings.tls?.requireClientCertificates == true, authority != nil, enrollment.clientCertificateRequest == nil {
                throw APIError.invalid(
                    "clientCertificateRequest: required, as this controller requires client certificates on agent routes; send a certificate signing request for the host's key (sluice-agent does)"
                )
            }
            // The certificate is made first: a bad request then enrolls nothing.
            var certificate: String?
            // Checked with or without a CA: an over-long request is invalid either way (found by scripts/fuzz-api).
            if let csr = enrollment.clientCertificateRequest, csr.utf8.count > 16 * 1024 {
                throw APIError.invalid("clientCertificateRequest: longer than 16 KiB")
            }
            if let csr = enrollment.clientCertificateRequest, let authority {
                certificate = try authority.issueClientCertificate(
                    forRequestPEM: csr, host: enrollment.hostID, now: Date(timeIntervalSince1970: Double(clock.nowMs()) / 1000))
            }
            let issued = try database.enroll(
                host: enrollment.hostID, labels: enrollment.labels, enrollmentKeyID: keyID, nowMs: clock.nowMs(),
                clientCertificate: certificate.flatMap { fingerprintSHA256(ofCertificatePEM: $0) })
            context.logger.info("enrolled host \(enrollment.hostID) with labels \(enrollment.labels)\(certificate != nil ? " and a client certificate" : "")")
            return JSONResponse(EnrollResponse(hostID: enrollment.hostID, token: issued.token, clientCertificate: certificate), status: .created)
        }

        api.add(.putInventory) { request, context, caller in
            let host = caller.pathHost!
            // Charged on the declared length before a byte of the body is read; a chunked body,
            // when it has been read.
            let declared = request.headers[.contentLength].flatMap { Int($0) }
            if let declared { try chargeInventory(host: host, bytes: declared) }
            let report = try await request.decodeJSON(InventoryReport.self, context: context, lane: Self.inventoryLane) { bytes in
                if declared == nil { try chargeInventory(host: host, bytes: bytes) }
            }
            try report.validate()
            let recorded = try await database.commitReport(host: host, report: report, nowMs: clock.nowMs())
            return accepted(recorded, host: host, context: context)
        }

        // An unchanged inventory, named by its digest: a small body instead of the whole report.
        api.add(.confirmInventory) { request, context, caller in
            let host = caller.pathHost!
            let confirmation = try await request.decodeJSON(InventoryConfirmation.self, context: context)
            try confirmation.validate()
            guard
                let recorded = try await database.commitConfirmation(
                    host: host, digest: confirmation.digest, labels: confirmation.labels, nowMs: clock.nowMs())
            else {
                throw APIError(
                    status: .conflict, code: InventoryConfirmation.differsCode,
                    message: "host \(host): the controller holds a different inventory (or none); send the full report")
            }
            return accepted(recorded, host: host, context: context)
        }

        api.add(.listHosts) { _, _, _ in
            JSONResponse(HostList(hosts: try database.listHosts(nowMs: clock.nowMs(), staleAfterMs: settings.staleAfterMs)))
        }

        api.add(.getHost) { _, _, caller in
            let host = caller.pathHost!
            guard let detail = try database.hostDetail(host, nowMs: clock.nowMs(), staleAfterMs: settings.staleAfterMs) else {
                throw APIError.notFound("host \(host) is not enrolled")
            }
            return JSONResponse(detail)
        }

        api.add(.listUpdates) { _, _, _ in
            JSONResponse(UpdateList(updates: try database.pendingUpdates()))
        }
    }

    /// The answer to a report or a confirmation; a new label request is logged for operators.
    private func accepted(_ recorded: InventoryRecorded, host: HostID, context: SluiceRequestContext) -> JSONResponse<ReportAccepted> {
        if let change = recorded.labelChange, change.rejectedAtMs == nil, change.requestedAtMs == clock.nowMs() {
            context.logger.notice("host \(host) asks for labels \(change.requested) instead of \(change.approved); not applied until an operator approves")
        }
        return JSONResponse(
            ReportAccepted(changed: recorded.changed, nextReportSeconds: settings.reportIntervalSeconds, labelChange: recorded.labelChange))
    }
}
