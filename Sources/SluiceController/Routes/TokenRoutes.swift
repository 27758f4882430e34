import Hummingbird
import Logging
import SluiceAPI
import SluiceCore
import SluiceStore

/// Operator tokens and enrollment (bootstrap) tokens.
struct TokenRoutes {
    static let maxLifetimeSeconds = 10 * 365 * 86400
    let database: SluiceDatabase
    let clock: any WallClock

    func register(on api: APIRouter) {
        api.add(.createToken) { request, context, caller in
            let body = try await request.decodeJSON(CreateTokenRequest.self, context: context)
            let now = clock.nowMs()
            let expires = try body.expiresInSeconds.map { try Self.expiry(seconds: $0, nowMs: now) }
            let issued = try database.createOperatorToken(name: body.name, role: body.role, expiresAtMs: expires, actor: caller.actor, nowMs: now)
            return JSONResponse(TokenResponse(issued), status: .created)
        }

        api.add(.createEnrollmentToken) { request, context, caller in
            let body = try await request.decodeJSON(CreateEnrollmentTokenRequest.self, context: context)
            let now = clock.nowMs()
            let expires = try Self.expiry(seconds: body.expiresInSeconds ?? 86400, nowMs: now)
            let issued = try database.createEnrollmentToken(
                name: body.name, uses: body.uses ?? 1, expiresAtMs: expires, labels: body.labels, actor: caller.actor, nowMs: now)
            return JSONResponse(TokenResponse(issued), status: .created)
        }

        for (list, revoke, kind) in [
            (APIRoute.listTokens, APIRoute.revokeToken, CredentialToken.Kind.operatorToken),
            (.listEnrollmentTokens, .revokeEnrollmentToken, .enrollment),
        ] {
            api.add(list) { _, _, _ in
                JSONResponse(TokenList(tokens: try database.listTokens(kind: kind, nowMs: clock.nowMs())))
            }
            api.add(revoke) { request, context, caller in
                let keyID = try Self.keyID(context)
                let body = try await request.decodeJSON(RevokeRequest.self, context: context)
                let info = try database.revokeToken(keyID: keyID, kind: kind, reason: body.reason, actor: caller.actor, nowMs: clock.nowMs())
                context.logger.notice("\(caller.actor) revoked \(kind == .operatorToken ? "operator" : "enrollment") token \(keyID) (\(info.name))")
                return JSONResponse(info)
            }
        }
    }

    /// The `{keyID}` of the path: 16 lowercase hex digits, the public part of a token.
    static func keyID(_ context: SluiceRequestContext) throws -> String {
        guard let text = context.parameters.get("keyID"), LowercaseHex.isEncoding(text.utf8, count: 16) else { throw APIError.invalid("path: a key id is 16 lowercase hex digits (the part after sluice-op. or sluice-enroll.)") }
        return text
    }

    static func expiry(seconds: Int, nowMs: Int64) throws -> Int64 {
        guard (1...maxLifetimeSeconds).contains(seconds) else {
            throw APIError.invalid("expiresInSeconds: must be between 1 and \(maxLifetimeSeconds)")
        }
        return nowMs + Int64(seconds) * 1000
    }
}

extension TokenResponse {
    init(_ issued: IssuedToken) {
        self.init(
            keyID: issued.keyID, token: issued.token, name: issued.name, role: issued.role, expiresAtMs: issued.expiresAtMs,
            usesLeft: issued.usesLeft)
    }
}
