import Hummingbird
import Logging
import ServiceLifecycle
import SluiceAPI
import SluiceCore
import SluiceStore

/// What agents call while rolling out: health heartbeats, the assignment long-poll, step reports.
struct AgentRoutes {
    static let maxWaitSeconds = 60
    static let heartbeatAccepted = EncodedJSONResponse(ReportAccepted(changed: false, nextReportSeconds: 10))
    let database: SluiceDatabase
    let clock: any WallClock
    let signal: ChangeSignal
    let simulations: SimulationBoard
    let settings: ControllerSettings

    func register(on api: APIRouter) {
        api.add(.putHealth) { request, context, caller in
            let report = try await request.decodeJSON(HealthReport.self, context: context)
            try checkText(report.detail, field: "detail", max: 2000, allowEmpty: true)
            // Only a change of health wakes the reconciler; a plain heartbeat does not. No
            // assignment changed, so no long-poll needs to look again.
            let beat = HealthBeat(
                host: caller.pathHost!, healthy: report.healthy, detail: report.detail, nowMs: clock.nowMs(),
                auditIntervalMs: settings.healthAuditIntervalMs)
            if try await database.commitHealth(beat) {
                signal.signal(hosts: [])
            }
            return Self.heartbeatAccepted
        }

        api.add(.pollAssignment) { request, context, caller in
            let host = caller.pathHost!
            let wait = try request.uri.queryParameters.get("wait").map { text -> Int in
                guard let seconds = Int(text), (0...Self.maxWaitSeconds).contains(seconds) else {
                    throw APIError.invalid("wait: seconds between 0 and \(Self.maxWaitSeconds)")
                }
                return seconds
            } ?? 0
            let known = request.uri.queryParameters.get("known")
            simulations.polled(host, nowMs: clock.nowMs())
            let deadline = ContinuousClock.now.advanced(by: .seconds(wait))
            // On a graceful shutdown (SIGTERM) a parked poll answers at once, as if its wait had
            // run out: the stop does not wait for the longest poll, and the agent polls again.
            return try await withGracefulShutdownHandler {
                while true {
                    let seen = signal.current
                    // A host revoked while it waits gets its answer now, not at the end of the wait.
                    if try database.isRevoked(host) { throw APIError.hostRevoked("host \(host) has been revoked") }
                    // Every change wakes every long-poll: compare on the assignment's id and state
                    // (and the plan question waiting for this host) alone, and read the
                    // assignment's instructions only to answer.
                    let current = try database.currentAssignmentState(for: host)
                    let question = simulations.pending(for: host)
                    let etag = Self.etag(current.map { "\($0.id)-\($0.state.rawValue)" }, question)
                    if etag != known || ContinuousClock.now >= deadline || Task.isCancelled || signal.longPollsClosed {
                        let assignment = current == nil ? nil : try database.currentAssignment(for: host, keepSaved: (clock.nowMs(), settings.savedPackageRetentionMs))
                        return JSONResponse(
                            AssignmentPoll(
                                etag: Self.etag(assignment.map { "\($0.id)-\($0.state.rawValue)" }, question), assignment: assignment,
                                simulation: question))
                    }
                    await signal.wait(host: host, after: seen, timeout: deadline - ContinuousClock.now)
                }
            } onGracefulShutdown: {
                signal.closeLongPolls()
            }
        }

        api.add(.reportSimulation) { request, context, caller in
            let id = try context.pathID("simulationID", naming: "simulation id")
            let report = try await request.decodeJSON(SimulationReport.self, context: context)
            guard report.installs.count + report.removals.count <= SimulationReport.maxPackages else {
                throw APIError.invalid("installs, removals: at most \(SimulationReport.maxPackages) packages")
            }
            if let error = report.error { try checkText(error, field: "error", max: 2000, allowEmpty: false) }
            guard simulations.answer(id, host: caller.pathHost!, report) else {
                throw APIError.notFound("simulation \(id) was not asked of host \(caller.pathHost!), or nobody waits for it any more")
            }
            signal.signal(hosts: [caller.pathHost!])
            return JSONResponse(SimulationAccepted(simulationID: id))
        }

        api.add(.reportHandover) { request, context, caller in
            let report = try await request.decodeJSON(HandoverReport.self, context: context)
            guard HandoverReport.reasons.contains(report.reason) else {
                throw APIError.invalid("reason: \(quoted(report.reason, limit: 32)) is not one of \(HandoverReport.reasons.joined(separator: ", "))")
            }
            try checkText(report.handbackDetail, field: "handbackDetail", max: 1000, allowEmpty: false)
            try checkText(report.takeoverDetail, field: "takeoverDetail", max: 1000, allowEmpty: false)
            let host = caller.pathHost!
            let seqs = try database.recordHandover(
                host, reason: report.reason, handedBackAtMs: report.handedBackAtMs, handbackDetail: report.handbackDetail,
                takenOverAtMs: report.takenOverAtMs, takeoverDetail: report.takeoverDetail, nowMs: clock.nowMs())
            context.logger.notice("host \(host) was handed back to unattended-upgrades (\(report.reason)) and has been taken over again")
            return JSONResponse(HandoverRecorded(auditSeqs: seqs))
        }

        api.add(.reportStep) { request, context, caller in
            let id = try context.pathID("assignmentID", naming: "assignment id")
            let report = try await request.decodeJSON(ApplyStepReport.self, context: context)
            try checkText(report.detail, field: "detail", max: 2000, allowEmpty: true)
            if let output = report.output { try checkText(output, field: "output", max: 64_000, allowEmpty: true, multiline: true) }
            guard report.versionsBefore.count <= 1000, report.versionsAfter.count <= 1000 else { throw APIError.invalid("versions: at most 1000 packages") }
            for (name, version) in report.versionsBefore.merging(report.versionsAfter, uniquingKeysWith: { a, _ in a }) {
                try checkText(name, field: "versions", max: 128, allowEmpty: true)
                try checkText(version, field: "versions", max: 256, allowEmpty: true)
            }
            let state = try database.recordStep(host: caller.pathHost!, assignment: id, report: report, nowMs: clock.nowMs())
            // The reconciler looks again; of the long-polls, only this host's (with 10,000
            // agents polling, waking them all on every step report swamped the controller).
            signal.signal(hosts: [caller.pathHost!])
            return JSONResponse(StepAccepted(state: state))
        }
    }

    /// The assignment's id and state, and the plan question waiting for the host, if any.
    static func etag(_ assignment: String?, _ question: SimulationRequest?) -> String {
        (assignment ?? "none") + (question.map { "_q\($0.id)" } ?? "")
    }
}
