import Hummingbird
import Logging
import SluiceAPI
import SluiceCore
import SluiceStore

/// What operators decide about a host's identity: revoking it, and its labels.
struct HostRoutes {
    let database: SluiceDatabase
    let clock: any WallClock
    let signal: ChangeSignal

    func register(on api: APIRouter) {
        api.add(.revokeHost) { request, context, caller in
            let host = caller.pathHost!
            let body = try await request.decodeJSON(RevokeRequest.self, context: context)
            let revocation = try database.revokeHost(host, reason: body.reason, actor: caller.actor, nowMs: clock.nowMs())
            // The reconciler sees the cancelled assignments, and the host's long-poll answers (401).
            signal.signal()
            context.logger.notice(
                "\(caller.actor) revoked host \(host): \(revocation.cancelledAssignments) assignment(s) cancelled, \(revocation.failedAssignments) failed")
            return JSONResponse(
                HostRevoked(
                    hostID: host, revokedAtMs: revocation.revokedAtMs, cancelledAssignments: revocation.cancelledAssignments,
                    failedAssignments: revocation.failedAssignments))
        }

        api.add(.decideHostLabels) { request, context, caller in
            let host = caller.pathHost!
            let body = try await request.decodeJSON(HostLabelsRequest.self, context: context)
            let decision: LabelDecision
            switch (body.action, body.labels) {
            case (.set, let labels?): decision = .set(labels)
            case (.set, nil): throw APIError.invalid("labels: required to set a host's labels")
            case (.approve, let labels?): decision = .approve(labels)
            case (.approve, nil): throw APIError.invalid("labels: required to approve: the labels the agent asks for, as shown to you")
            case (.reject, .some): throw APIError.invalid("labels: only for approve and set; reject takes none")
            case (.reject, nil): decision = .reject
            }
            let (previous, labels) = try database.decideLabels(host: host, decision, reason: body.reason, actor: caller.actor, nowMs: clock.nowMs())
            signal.signal()
            return JSONResponse(HostLabelsResponse(hostID: host, labels: labels, previousLabels: previous))
        }
    }
}
