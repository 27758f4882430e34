import Hummingbird
import Logging
import SluiceAPI
import SluiceCore
import SluiceStore

/// Hosts, their reports and the fleet's pending updates.
struct FleetRoutes {
    let database: SluiceDatabase
    let clock: any WallClock
    let settings: ControllerSettings

    func register(on api: APIRouter) {
        api.add(.health) { _, _, _ in
            JSONResponse(HealthResponse(status: "ok", version: SluiceVersion.current))
        }

        api.add(.enroll) { request, context, caller in
            guard case .enrollment(_, let keyID) = caller.principal else { throw APIError.forbidden("an enrollment token is required") }
            let enrollment = try await request.decodeJSON(EnrollRequest.self, context: context)
            let issued = try database.enroll(
                host: enrollment.hostID, labels: enrollment.labels, enrollmentKeyID: keyID, nowMs: clock.nowMs())
            context.logger.info("enrolled host \(enrollment.hostID) with labels \(enrollment.labels)")
            return JSONResponse(EnrollResponse(hostID: enrollment.hostID, token: issued.token), status: .created)
        }

        api.add(.putInventory) { request, context, caller in
            let host = caller.pathHost!
            let report = try await request.decodeJSON(InventoryReport.self, context: context)
            try report.validate()
            let changed = try database.recordInventory(host: host, report: report, nowMs: clock.nowMs())
            return JSONResponse(ReportAccepted(changed: changed, nextReportSeconds: settings.reportIntervalSeconds))
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
}
