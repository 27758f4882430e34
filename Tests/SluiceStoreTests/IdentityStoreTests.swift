import SluiceTestSupport
import Foundation
import GRDB
import SluiceCore
import Testing

@testable import SluiceStore

@Suite("Token and host revocation in the store")
struct IdentityStoreTests {
    let database = try! SluiceDatabase.inMemory()
    let root = Actor.local("root")

    @Test func tokensAreListedWithTheirStateAndNeverWithASecretOrHash() throws {
        let admin = try database.createOperatorToken(name: "alice", role: .admin, expiresAtMs: nil, actor: root, nowMs: 10)
        let brief = try database.createOperatorToken(name: "bob", role: .viewer, expiresAtMs: 100, actor: root, nowMs: 11)
        let boot = try database.createEnrollmentToken(
            name: "fr1", uses: 1, expiresAtMs: 1000, labels: Fixtures.labels(["region": "osc-fr1"]), actor: root, nowMs: 12)
        _ = try database.enroll(host: Fixtures.host("dns1"), labels: Fixtures.labels(["region": "osc-fr1"]), enrollmentKeyID: boot.keyID, nowMs: 13)

        let operators = try database.listTokens(kind: .operatorToken, nowMs: 100)
        #expect(operators.map(\.keyID) == [admin.keyID, brief.keyID])
        #expect(operators.map(\.state) == [.active, .expired])
        #expect(operators.first?.role == .admin && operators.first?.createdBy == "local:root")
        let enrollment = try database.listTokens(kind: .enrollment, nowMs: 100)
        #expect(enrollment.map(\.state) == [.usedUp] && enrollment.first?.labels == Fixtures.labels(["region": "osc-fr1"]))
        #expect(throws: StoreError.self) { try database.listTokens(kind: .host, nowMs: 100) }

        let text = String(decoding: try JSONEncoder().encode(operators + enrollment), as: UTF8.self)
        for issued in [admin, brief, boot] {
            let secret = try #require(CredentialToken(parsing: issued.token)).secret
            #expect(!text.contains(secret))
        }
        #expect(!text.lowercased().contains("hash"))
    }

    @Test func anOperatorTokensUseIsRecordedAtMostOnceAMinute() throws {
        let issued = try database.createOperatorToken(name: "alice", role: .viewer, expiresAtMs: nil, actor: root, nowMs: 0)
        func lastUsed() throws -> Int64? { try database.listTokens(kind: .operatorToken, nowMs: 0).first?.lastUsedAtMs }
        #expect(try lastUsed() == nil)
        _ = try database.authenticate(token: issued.token, nowMs: 1_000)
        #expect(try lastUsed() == 1_000)
        _ = try database.authenticate(token: issued.token, nowMs: 60_999)
        #expect(try lastUsed() == 1_000, "a use within the minute wrote again")
        _ = try database.authenticate(token: issued.token, nowMs: 61_000)
        #expect(try lastUsed() == 61_000)
    }

    @Test func aRevokedTokenIsRefusedAtOnceAndOnlyTheControllerHostMayRevokeTheLastAdmin() throws {
        let admin = try database.createOperatorToken(name: "alice", role: .admin, expiresAtMs: nil, actor: root, nowMs: 0)
        #expect(throws: StoreError.self) {
            try database.revokeToken(keyID: admin.keyID, kind: .operatorToken, reason: "stolen", actor: .operatorNamed("alice"), nowMs: 5)
        }
        _ = try database.authenticate(token: admin.token, nowMs: 6)
        #expect(throws: StoreError.notFound("no enrollment token \(admin.keyID)")) {
            try database.revokeToken(keyID: admin.keyID, kind: .enrollment, reason: "wrong kind", actor: root, nowMs: 7)
        }
        let info = try database.revokeToken(
            keyID: admin.keyID, kind: .operatorToken, reason: "stolen", actor: root, nowMs: 10, allowLastAdmin: true)
        #expect(info.state == .revoked && info.revokedAtMs == 10 && info.revokedBy == "local:root" && info.revokeReason == "stolen")
        #expect(throws: StoreError.unauthenticated("token \(admin.keyID) has been revoked")) { try database.authenticate(token: admin.token, nowMs: 11) }
        let event = try #require(try database.auditEvents().last)
        #expect(event.kind == "token.revoked" && event.actor == "local:root" && AuditDetails(event.details)["reason"] == "stolen")
    }

    @Test func aRevokedHostsSecretStopsWorkingAndItsIdNeverEnrollsAgain() throws {
        let boot = try database.createEnrollmentToken(name: "boot", uses: 5, expiresAtMs: 100_000, labels: nil, actor: root, nowMs: 0)
        let host = try database.enroll(host: Fixtures.host("dns1"), labels: Labels(), enrollmentKeyID: boot.keyID, nowMs: 1)
        #expect(try !database.isRevoked(Fixtures.host("dns1")))
        let revocation = try database.revokeHost(Fixtures.host("dns1"), reason: "leaked", actor: .operatorNamed("alice"), nowMs: 2)
        #expect(revocation == HostRevocation(revokedAtMs: 2, cancelledAssignments: 0, failedAssignments: 0))
        #expect(try database.isRevoked(Fixtures.host("dns1")))
        #expect(throws: StoreError.hostRevoked("host dns1 has been revoked")) { try database.authenticate(token: host.token, nowMs: 3) }
        #expect(throws: StoreError.self) {
            try database.enroll(host: Fixtures.host("dns1"), labels: Labels(), enrollmentKeyID: boot.keyID, nowMs: 4)
        }
        let secrets = try database.writer.read {
            try Row.fetchAll($0, sql: "SELECT revoked_at_ms, revoked_by, revoke_reason FROM credentials WHERE kind = 'host'")
        }
        #expect(secrets.count == 1 && (secrets.first?["revoked_by"] as String?) == "operator:alice", "the host's secret itself is not revoked")
        #expect(throws: StoreError.invalid("reason: must not be empty")) {
            try database.revokeHost(Fixtures.host("dns2"), reason: "", actor: root, nowMs: 5)
        }
    }
}
