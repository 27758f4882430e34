import Foundation
import SluiceAPI
import SluiceCore

extension SluiceHTTPClient {
    /// `GET /v1/tokens` (admin): every operator token, without secrets.
    public func listTokens() async throws -> TokenList { try await send("GET", "/v1/tokens") }

    /// `POST /v1/tokens/{keyID}/revoke` (admin).
    public func revokeToken(keyID: String, reason: String) async throws -> TokenInfo {
        try await send("POST", "/v1/tokens/\(try Self.pathKeyID(keyID))/revoke", body: RevokeRequest(reason: reason))
    }

    /// `GET /v1/enrollment-tokens` (admin): every enrollment token, without secrets.
    public func listEnrollmentTokens() async throws -> TokenList { try await send("GET", "/v1/enrollment-tokens") }

    /// `POST /v1/enrollment-tokens/{keyID}/revoke` (admin).
    public func revokeEnrollmentToken(keyID: String, reason: String) async throws -> TokenInfo {
        try await send("POST", "/v1/enrollment-tokens/\(try Self.pathKeyID(keyID))/revoke", body: RevokeRequest(reason: reason))
    }

    /// `POST /v1/hosts/{hostID}/revoke` (admin).
    public func revokeHost(_ host: HostID, reason: String) async throws -> HostRevoked {
        try await send("POST", "/v1/hosts/\(host)/revoke", body: RevokeRequest(reason: reason))
    }

    /// `POST /v1/hosts/{hostID}/labels` (operator).
    public func decideLabels(host: HostID, _ request: HostLabelsRequest) async throws -> HostLabelsResponse {
        try await send("POST", "/v1/hosts/\(host)/labels", body: request)
    }

    /// A key id goes into a path: anything but its 16 hex digits is refused here, not sent.
    static func pathKeyID(_ keyID: String) throws(ClientError) -> String {
        guard keyID.utf8.count == 16, keyID.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw ClientError.invalidArgument("invalid key id \(quoted(keyID)): expected the 16 hex digits after sluice-op. or sluice-enroll.")
        }
        return keyID
    }
}
