import Crypto
import Foundation
import GRDB
import SluiceCore

/// A token as handed out once, at creation. The secret is not stored and cannot be shown again.
public struct IssuedToken: Sendable, Codable, Equatable {
    public var keyID: String
    public var token: String
    public var name: String
    public var role: OperatorRole?
    public var expiresAtMs: Int64?
    public var usesLeft: Int?
}

extension SluiceDatabase {
    /// Creates an operator token and records who created it.
    /// - Parameters:
    ///   - name: the operator's name, recorded as `operator:NAME` on everything the token does.
    ///   - expiresAtMs: `nil` for a token that does not expire.
    public func createOperatorToken(
        name: String, role: OperatorRole, expiresAtMs: Int64?, actor: Actor, nowMs: Int64
    ) throws -> IssuedToken {
        try checkName(name)
        let token = CredentialToken.generate(kind: .operatorToken)
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO credentials (key_id, kind, secret_hash, name, role, created_at_ms, created_by, expires_at_ms)
                    VALUES (?, 'operator', ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [token.keyID, secretHash(token.secret), name, role.rawValue, nowMs, actor.description, expiresAtMs])
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: actor.description, kind: "token.created",
                    details: json(["keyID": token.keyID, "name": name, "role": role.rawValue, "expiresAtMs": expiresAtMs.map(String.init)])))
        }
        return IssuedToken(keyID: token.keyID, token: token.text, name: name, role: role, expiresAtMs: expiresAtMs)
    }

    /// Creates a bootstrap token that enrolls at most `uses` hosts before `expiresAtMs`.
    /// - Parameter labels: when given, a host enrolled with this token must carry exactly these values for these keys.
    public func createEnrollmentToken(
        name: String, uses: Int, expiresAtMs: Int64, labels: Labels?, actor: Actor, nowMs: Int64
    ) throws -> IssuedToken {
        try checkName(name)
        guard (1...100_000).contains(uses) else { throw StoreError.invalid("uses: must be between 1 and 100000, got \(uses)") }
        guard expiresAtMs > nowMs else { throw StoreError.invalid("expiry must be in the future") }
        let token = CredentialToken.generate(kind: .enrollment)
        let labelJSON = try labels.map { String(decoding: try JSONEncoder.sorted.encode($0), as: UTF8.self) }
        try writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO credentials (key_id, kind, secret_hash, name, labels, uses_left, created_at_ms, created_by, expires_at_ms)
                    VALUES (?, 'enrollment', ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [token.keyID, secretHash(token.secret), name, labelJSON, uses, nowMs, actor.description, expiresAtMs])
            try appendAudit(
                db,
                AuditEvent(
                    atMs: nowMs, actor: actor.description, kind: "enrollment-token.created",
                    details: json(["keyID": token.keyID, "name": name, "uses": String(uses), "expiresAtMs": String(expiresAtMs), "labels": labels?.description])))
        }
        return IssuedToken(keyID: token.keyID, token: token.text, name: name, expiresAtMs: expiresAtMs, usesLeft: uses)
    }

    /// Checks a presented bearer token and says whose it is.
    /// - Throws: `StoreError.unauthenticated` naming what was wrong (never the secret).
    public func authenticate(token text: String, nowMs: Int64) throws -> Principal {
        guard let token = CredentialToken(parsing: text) else {
            throw StoreError.unauthenticated("malformed token: expected sluice-<kind>.<key id>.<secret>")
        }
        // Every request of every agent comes through here. A host's credential, once verified,
        // is checked from memory (see `HostCredentialCache`); the secret is still hashed and
        // compared every time.
        if token.kind == .host, let cached = hostCredentials.entry(token.keyID) {
            guard constantTimeEqual(secretHash(token.secret), cached.secretHash) else {
                throw StoreError.unauthenticated("unknown or wrong token \(token.keyID)")
            }
            if let expires = cached.expiresAtMs, expires <= nowMs {
                throw StoreError.unauthenticated("token \(token.keyID) expired")
            }
            return .host(cached.host, keyID: token.keyID)
        }
        let epoch = hostCredentials.epoch
        // The statement is prepared once per connection, not per request (re-preparing it was
        // 40 % of a heartbeat's cost), and one SELECT needs no transaction around it (it reads
        // one snapshot by itself).
        let row = try writer.unsafeRead { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                    SELECT c.kind, c.secret_hash, c.name, c.role, c.host_id, c.uses_left, c.expires_at_ms, c.revoked_at_ms,
                           c.last_used_at_ms, h.revoked_at_ms AS host_revoked_at_ms
                    FROM credentials c LEFT JOIN hosts h ON h.id = c.host_id
                    WHERE c.key_id = ?
                    """), arguments: [token.keyID])
        }
        // The hash is computed whether or not the key exists, so timing says nothing either way.
        let presented = secretHash(token.secret)
        let stored: Data = row?["secret_hash"] ?? Data(count: 32)
        let secretMatches = constantTimeEqual(presented, stored)
        guard let row, secretMatches, row["kind"] == token.kind.storedKind else {
            throw StoreError.unauthenticated("unknown or wrong token \(token.keyID)")
        }
        // Only the holder of the secret gets this far, so naming why reveals nothing to anyone else.
        if (row["host_revoked_at_ms"] as Int64?) != nil {
            throw StoreError.hostRevoked("host \(row["host_id"] as String? ?? "?") has been revoked")
        }
        if (row["revoked_at_ms"] as Int64?) != nil {
            throw StoreError.unauthenticated("token \(token.keyID) has been revoked")
        }
        if let expires: Int64 = row["expires_at_ms"], expires <= nowMs {
            throw StoreError.unauthenticated("token \(token.keyID) expired")
        }
        switch token.kind {
        case .operatorToken:
            guard let role = OperatorRole(rawValue: row["role"] ?? "") else {
                throw StoreError.unauthenticated("token \(token.keyID) has no valid role")
            }
            noteUse(keyID: token.keyID, lastUsedAtMs: row["last_used_at_ms"], nowMs: nowMs)
            return .operatorToken(name: row["name"], role: role, keyID: token.keyID)
        case .host:
            let host = try HostID(parsing: row["host_id"])
            hostCredentials.store(.init(secretHash: stored, host: host, expiresAtMs: row["expires_at_ms"]), keyID: token.keyID, readAt: epoch)
            return .host(host, keyID: token.keyID)
        case .enrollment:
            guard let uses: Int = row["uses_left"], uses > 0 else {
                throw StoreError.unauthenticated("enrollment token \(token.keyID) has been used up")
            }
            return .enrollment(name: row["name"], keyID: token.keyID)
        }
    }

    /// How many operator tokens exist (revoked ones included).
    public func operatorTokenCount() throws -> Int {
        try writer.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM credentials WHERE kind = 'operator'") ?? 0 }
    }

    func checkName(_ name: String) throws {
        guard (1...128).contains(name.utf8.count),
            name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && $0 != ":" })
        else {
            throw StoreError.invalid("invalid name \(quoted(name)): use 1 to 128 printable characters without spaces or ':'")
        }
    }
}

func secretHash(_ secret: String) -> Data { Data(SHA256.hash(data: Data(secret.utf8))) }

/// Compares two byte strings in time that depends only on their lengths.
func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}

extension JSONEncoder {
    /// Sorted keys: the same value always encodes to the same bytes.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// A JSON object of strings, absent values left out; for audit details.
func json(_ fields: [String: String?]) -> String {
    let present = fields.compactMapValues { $0 }
    return String(decoding: (try? JSONEncoder.sorted.encode(present)) ?? Data("{}".utf8), as: UTF8.self)
}
