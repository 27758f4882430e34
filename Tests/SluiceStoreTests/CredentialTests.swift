import SluiceTestSupport
import Foundation
import GRDB
import SluiceCore
import Testing

@testable import SluiceStore

@Suite("Credentials and enrollment")
struct CredentialTests {
    let database = try! SluiceDatabase.inMemory()
    let alice = Actor.local("alice")

    @Test func anOperatorTokenAuthenticatesAsItsNameAndRoleAndIsStoredOnlyAsAHash() throws {
        let issued = try database.createOperatorToken(name: "alice", role: .operator, expiresAtMs: nil, actor: alice, nowMs: 10)
        #expect(try database.authenticate(token: issued.token, nowMs: 20) == .operatorToken(name: "alice", role: .operator, keyID: issued.keyID))
        let secret = try #require(CredentialToken(parsing: issued.token)).secret
        let stored = try database.writer.read { try Row.fetchAll($0, sql: "SELECT * FROM credentials") }
        for row in stored {
            for column in row.columnNames {
                let value = row[column].map { "\($0)" } ?? ""
                #expect(!value.contains(secret), "the secret is stored in clear in column \(column)")
            }
        }
    }

    @Test func aWrongSecretAnUnknownKeyAndAMalformedTokenAreRefused() throws {
        let issued = try database.createOperatorToken(name: "alice", role: .admin, expiresAtMs: nil, actor: alice, nowMs: 10)
        let token = try #require(CredentialToken(parsing: issued.token))
        let wrongSecret = CredentialToken(kind: .operatorToken, keyID: token.keyID, secret: String(repeating: "A", count: 43)).text
        let unknownKey = CredentialToken(kind: .operatorToken, keyID: "0123456789abcdef", secret: token.secret).text
        let wrongKind = CredentialToken(kind: .host, keyID: token.keyID, secret: token.secret).text
        for bad in [wrongSecret, unknownKey, wrongKind, "Bearer", "", issued.token + "x", "sluice-op.\(token.keyID).short"] {
            #expect(throws: StoreError.self, "accepted \(bad)") { try database.authenticate(token: bad, nowMs: 20) }
        }
    }

    @Test func anExpiredTokenIsRefusedFromItsExpiryOn() throws {
        let issued = try database.createOperatorToken(name: "bob", role: .viewer, expiresAtMs: 1000, actor: alice, nowMs: 10)
        _ = try database.authenticate(token: issued.token, nowMs: 999)
        #expect(throws: StoreError.unauthenticated("token \(issued.keyID) expired")) { try database.authenticate(token: issued.token, nowMs: 1000) }
    }

    @Test func enrollmentCreatesTheHostItsLabelsItsSecretAndAnAuditEventTogether() throws {
        let enrollment = try database.createEnrollmentToken(name: "boot", uses: 1, expiresAtMs: 100_000, labels: nil, actor: alice, nowMs: 10)
        guard case .enrollment(_, let keyID) = try database.authenticate(token: enrollment.token, nowMs: 20) else {
            Issue.record("not an enrollment principal")
            return
        }
        let host = Fixtures.host("dns1.osc-fr1")
        let issued = try database.enroll(
            host: host, labels: Fixtures.labels(["region": "osc-fr1", "role": "dns-resolver"]), enrollmentKeyID: keyID, nowMs: 30)
        #expect(try database.authenticate(token: issued.token, nowMs: 40) == .host(host, keyID: issued.keyID))
        let hosts = try database.listHosts(nowMs: 40, staleAfterMs: 60_000)
        #expect(hosts.map(\.id) == [host])
        #expect(hosts.first?.labels["role"] == "dns-resolver")
        #expect(hosts.first?.warnings == ["never reported"])
        let events = try database.auditEvents()
        #expect(events.map(\.kind) == ["enrollment-token.created", "host.enrolled"])
        #expect(events.last?.actor == "agent:dns1.osc-fr1")
        #expect(events.last?.region == "osc-fr1")
    }

    @Test func aSingleUseEnrollmentTokenEnrollsOneHostOnly() throws {
        let enrollment = try database.createEnrollmentToken(name: "once", uses: 1, expiresAtMs: 100_000, labels: nil, actor: alice, nowMs: 10)
        _ = try database.enroll(host: Fixtures.host("a"), labels: Labels(), enrollmentKeyID: enrollment.keyID, nowMs: 20)
        #expect(throws: StoreError.unauthenticated("enrollment token \(enrollment.keyID) has been used up")) {
            try database.enroll(host: Fixtures.host("b"), labels: Labels(), enrollmentKeyID: enrollment.keyID, nowMs: 21)
        }
        #expect(throws: StoreError.self) { try database.authenticate(token: enrollment.token, nowMs: 22) }
        #expect(try database.listHosts(nowMs: 30, staleAfterMs: 1).map(\.id) == [Fixtures.host("a")])
    }

    @Test func anEnrollmentTokenBoundToARegionRefusesAHostOfAnotherRegionAndChangesNothing() throws {
        let enrollment = try database.createEnrollmentToken(
            name: "fr1", uses: 5, expiresAtMs: 100_000, labels: Fixtures.labels(["region": "osc-fr1"]), actor: alice, nowMs: 10)
        let auditBefore = try database.auditEvents().count
        #expect(throws: StoreError.self) {
            try database.enroll(
                host: Fixtures.host("dns1.secnum"), labels: Fixtures.labels(["region": "osc-secnum-fr1"]), enrollmentKeyID: enrollment.keyID,
                nowMs: 20)
        }
        #expect(try database.listHosts(nowMs: 30, staleAfterMs: 1).isEmpty)
        #expect(try database.auditEvents().count == auditBefore)
        _ = try database.enroll(
            host: Fixtures.host("dns1.fr1"), labels: Fixtures.labels(["region": "osc-fr1"]), enrollmentKeyID: enrollment.keyID, nowMs: 21)
    }

    @Test func anEnrolledHostIdCannotBeTakenOverByEnrollingAgain() throws {
        let enrollment = try database.createEnrollmentToken(name: "two", uses: 2, expiresAtMs: 100_000, labels: nil, actor: alice, nowMs: 10)
        let first = try database.enroll(host: Fixtures.host("web1"), labels: Labels(), enrollmentKeyID: enrollment.keyID, nowMs: 20)
        #expect(throws: StoreError.conflict("host web1 is already enrolled; enrolling it again would take over its identity (revoke it and use a new host id)")) {
            try database.enroll(host: Fixtures.host("web1"), labels: Labels(), enrollmentKeyID: enrollment.keyID, nowMs: 21)
        }
        // The first secret still works, and the failed attempt did not use up the token.
        _ = try database.authenticate(token: first.token, nowMs: 22)
        _ = try database.authenticate(token: enrollment.token, nowMs: 22)
    }

    @Test func anExpiredEnrollmentTokenEnrollsNothing() throws {
        let enrollment = try database.createEnrollmentToken(name: "late", uses: 1, expiresAtMs: 50, labels: nil, actor: alice, nowMs: 10)
        #expect(throws: StoreError.unauthenticated("enrollment token \(enrollment.keyID) expired")) {
            try database.enroll(host: Fixtures.host("a"), labels: Labels(), enrollmentKeyID: enrollment.keyID, nowMs: 50)
        }
    }

    @Test func namesWithSpacesOrColonsAreRefused() {
        for name in ["", "two words", "op:evil", String(repeating: "x", count: 129), "tab\there"] {
            #expect(throws: StoreError.self, "accepted \(name)") {
                try database.createOperatorToken(name: name, role: .viewer, expiresAtMs: nil, actor: alice, nowMs: 1)
            }
        }
    }
}
