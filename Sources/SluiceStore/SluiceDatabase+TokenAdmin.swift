import Foundation
import GRDB
import SluiceCore

extension SluiceDatabase {
    /// Every operator token, or every enrollment token, oldest first: names, roles, state and
    /// times, never a secret or its hash.
    /// - Parameter kind: `.operatorToken` or `.enrollment`; host secrets are listed with their hosts.
    public func listTokens(kind: CredentialToken.Kind, nowMs: Int64) throws -> [TokenInfo] {
        let stored = try storedKind(kind)
        return try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM credentials WHERE kind = ? ORDER BY created_at_ms, key_id", arguments: [stored])
                .map { try tokenInfo($0, nowMs: nowMs) }
        }
    }

    /// Revokes an operator or enrollment token at once: the next request that presents it is
    /// refused with 401. Audited (`token.revoked`, `enrollment-token.revoked`) with the actor
    /// and the reason, in the same transaction.
    /// - Parameters:
    ///   - allowLastAdmin: revoke even the last live admin token. The API never does: that
    ///     would leave nobody able to manage tokens through it (`sluiced token revoke`, run on
    ///     the controller host, may).
    /// - Throws: `StoreError.notFound` for an unknown key id of that kind, `.conflict` when
    ///   the token is already revoked or is the last live admin token.
    /// - Returns: the token as it is now.
    @discardableResult
    public func revokeToken(
        keyID: String, kind: CredentialToken.Kind, reason: String, actor: Actor, nowMs: Int64, allowLastAdmin: Bool = false
    ) throws -> TokenInfo {
        let stored = try storedKind(kind)
        try checkReason(reason)
        let what = kind == .operatorToken ? "operator token" : "enrollment token"
        // Host credentials are not revoked here, but whatever is revoked, nothing verified
        // before it stays cached.
        defer { hostCredentials.invalidate() }
        return try writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM credentials WHERE key_id = ? AND kind = ?", arguments: [keyID, stored])
            else { throw StoreError.notFound("no \(what) \(keyID)") }
            if let at: Int64 = row["revoked_at_ms"] {
                throw StoreError.conflict("\(what) \(keyID) was already revoked at \(AuditTime.rfc3339(at))")
            }
            let isLiveAdmin = (row["role"] as String?) == OperatorRole.admin.rawValue && ((row["expires_at_ms"] as Int64?).map { $0 > nowMs } ?? true)
            if isLiveAdmin && !allowLastAdmin {
                let others = try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM credentials WHERE kind = 'operator' AND role = 'admin' AND key_id != ?
                        AND revoked_at_ms IS NULL AND (expires_at_ms IS NULL OR expires_at_ms > ?)
                        """, arguments: [keyID, nowMs]) ?? 0
                guard others > 0 else {
                    throw StoreError.conflict(
                        "operator token \(keyID) is the last live admin token: create another admin token first, or revoke it on the controller host with `sluiced token revoke`")
                }
            }
            try db.execute(
                sql: "UPDATE credentials SET revoked_at_ms = ?, revoked_by = ?, revoke_reason = ? WHERE key_id = ? AND revoked_at_ms IS NULL",
                arguments: [nowMs, actor.description, reason, keyID])
            guard db.changesCount == 1 else { throw StoreError.conflict("\(what) \(keyID) was already revoked") }
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: actor.description, kind: kind == .operatorToken ? "token.revoked" : "enrollment-token.revoked",
                    details: json(["keyID": keyID, "name": row["name"] as String?, "role": row["role"] as String?, "reason": reason])))
            guard let updated = try Row.fetchOne(db, sql: "SELECT * FROM credentials WHERE key_id = ?", arguments: [keyID]) else {
                throw StoreError.notFound("no \(what) \(keyID)")
            }
            return try tokenInfo(updated, nowMs: nowMs)
        }
    }

    /// Records that an operator token was used, at most once a minute per token so that
    /// reading does not turn into a write per request. Best effort: a busy database only
    /// loses the note.
    func noteUse(keyID: String, lastUsedAtMs: Int64?, nowMs: Int64) {
        if let lastUsedAtMs, nowMs - lastUsedAtMs < 60_000, nowMs >= lastUsedAtMs { return }
        try? writer.write { db in
            try db.execute(sql: "UPDATE credentials SET last_used_at_ms = ? WHERE key_id = ?", arguments: [nowMs, keyID])
        }
    }

    /// A reason an operator gives for the audit log: required, one line, at most 1000 bytes.
    func checkReason(_ reason: String) throws {
        do { try checkText(reason, field: "reason", max: 1000) } catch { throw StoreError.invalid(error.message) }
    }

    private func storedKind(_ kind: CredentialToken.Kind) throws -> String {
        guard kind != .host else { throw StoreError.invalid("host secrets are revoked with their host (sluicectl hosts revoke)") }
        return kind.storedKind
    }

    private func tokenInfo(_ row: Row, nowMs: Int64) throws -> TokenInfo {
        let labels = try (row["labels"] as String?).map { try JSONDecoder().decode(Labels.self, from: Data($0.utf8)) }
        let usesLeft: Int? = row["uses_left"]
        let expires: Int64? = row["expires_at_ms"], revoked: Int64? = row["revoked_at_ms"]
        return TokenInfo(
            keyID: row["key_id"], name: row["name"], role: (row["role"] as String?).flatMap(OperatorRole.init(rawValue:)), labels: labels,
            usesLeft: usesLeft, state: TokenInfo.state(revokedAtMs: revoked, expiresAtMs: expires, usesLeft: usesLeft, nowMs: nowMs),
            createdAtMs: row["created_at_ms"], createdBy: row["created_by"], expiresAtMs: expires, lastUsedAtMs: row["last_used_at_ms"],
            revokedAtMs: revoked, revokedBy: row["revoked_by"], revokeReason: row["revoke_reason"])
    }
}
