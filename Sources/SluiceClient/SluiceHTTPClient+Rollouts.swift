import Foundation
import SluiceAPI
import SluiceCore


extension SluiceHTTPClient {
    public func policies() async throws -> PolicyList { try await send("GET", "/v1/policies") }

    public func planRollout(_ request: CreateRolloutRequest) async throws -> RolloutPlan {
        try await send("POST", "/v1/rollouts/plan", body: request)
    }

    public func createRollout(_ request: CreateRolloutRequest) async throws -> RolloutDetail {
        try await send("POST", "/v1/rollouts", body: request)
    }

    public func rollouts() async throws -> RolloutList { try await send("GET", "/v1/rollouts") }

    public func rollout(_ id: Int64) async throws -> RolloutDetail { try await send("GET", "/v1/rollouts/\(id)") }

    /// `approve`, `pause`, `resume` or `abort`.
    public func decide(_ decision: String, rollout id: Int64, _ request: DecisionRequest) async throws -> RolloutDetail {
        guard ["approve", "pause", "resume", "abort"].contains(decision) else { throw ClientError.invalidArgument("unknown decision \(decision)") }
        return try await send("POST", "/v1/rollouts/\(id)/\(decision)", body: request)
    }

    /// Creates the revert rollout of rollout `id`; answers its detail.
    public func revertRollout(_ id: Int64, _ request: RevertRequest) async throws -> RolloutDetail {
        try await send("POST", "/v1/rollouts/\(id)/revert", body: request)
    }

    // Agent side.

    public func reportHealth(host: HostID, _ report: HealthReport) async throws -> ReportAccepted {
        try await send("PUT", "/v1/hosts/\(host)/health", body: report)
    }

    /// `POST /v1/hosts/{hostID}/handover`: the host was handed back to unattended-upgrades while
    /// orphaned and has been taken over again; the controller audits both.
    public func reportHandover(host: HostID, _ report: HandoverReport) async throws -> HandoverRecorded {
        try await send("POST", "/v1/hosts/\(host)/handover", body: report)
    }

    /// Long-polls the host's assignment: answers when it differs from `known`, or after `waitSeconds`.
    public func pollAssignment(host: HostID, known: String?, waitSeconds: Int) async throws -> AssignmentPoll {
        var query = [URLQueryItem(name: "wait", value: String(waitSeconds))]
        if let known { query.append(URLQueryItem(name: "known", value: known)) }
        return try await send("GET", "/v1/hosts/\(host)/assignment", query: query)
    }

    public func reportSimulation(host: HostID, id: String, _ report: SimulationReport) async throws {
        let _: SimulationAccepted = try await send("POST", "/v1/hosts/\(host)/simulations/\(id)", body: report)
    }

    public func reportStep(host: HostID, assignment: Int64, _ report: ApplyStepReport) async throws -> StepAccepted {
        try await send("POST", "/v1/hosts/\(host)/assignments/\(assignment)/steps", body: report)
    }
}

extension SluiceHTTPClient {
    public func resolve(host: HostID, reason: String) async throws -> ResolveResponse {
        try await send("POST", "/v1/hosts/\(host)/resolve", body: DecisionRequest(reason: reason))
    }
}
