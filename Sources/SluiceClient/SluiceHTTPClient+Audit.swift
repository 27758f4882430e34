import Foundation
import SluiceAPI
import SluiceCore


extension SluiceHTTPClient {
    /// `GET /v1/audit`: one page of the events `query` matches.
    public func auditPage(_ query: AuditQuery) async throws -> AuditPage {
        try await send("GET", "/v1/audit", query: query.parameters.map { URLQueryItem(name: $0.name, value: $0.value) })
    }

    /// `GET /v1/audit/verify`: the controller walks the whole chain.
    /// - Parameter head: a head recorded earlier that the chain must still hold.
    public func verifyAudit(head: AuditHead? = nil) async throws -> AuditVerification {
        try await send("GET", "/v1/audit/verify", query: head.map { [URLQueryItem(name: "head", value: $0.description)] } ?? [])
    }

    /// `GET /v1/rollouts/{id}/history`: what a postmortem of the rollout is computed from.
    public func rolloutHistory(_ id: Int64) async throws -> RolloutHistory { try await send("GET", "/v1/rollouts/\(id)/history") }
}
