import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceStore

@Suite("Host credentials checked from memory after their first use")
struct HostCredentialCacheTests {
    let root = Actor.local("root")

    func enrolled(_ database: SluiceDatabase, _ names: [String]) throws -> [String: IssuedToken] {
        let boot = try database.createEnrollmentToken(name: "boot", uses: 10, expiresAtMs: 1_000_000, labels: nil, actor: root, nowMs: 1)
        var tokens: [String: IssuedToken] = [:]
        for name in names {
            tokens[name] = try database.enroll(host: Fixtures.host(name), labels: Fixtures.labels(["region": "fr"]), enrollmentKeyID: boot.keyID, nowMs: 2)
        }
        return tokens
    }

    @Test func aHostIsCheckedFromMemoryAfterItsFirstRequestAndAWrongSecretIsStillRefused() throws {
        let database = try SluiceDatabase.inMemory()
        let token = try #require(try enrolled(database, ["dns1"])["dns1"])
        #expect(database.hostCredentials.count == 0)
        #expect(try database.authenticate(token: token.token, nowMs: 10) == .host(Fixtures.host("dns1"), keyID: token.keyID))
        #expect(database.hostCredentials.count == 1)
        #expect(try database.authenticate(token: token.token, nowMs: 11) == .host(Fixtures.host("dns1"), keyID: token.keyID))
        // The cached key with another secret of the right shape.
        let parsed = try #require(CredentialToken(parsing: token.token))
        let forged = CredentialToken(kind: .host, keyID: parsed.keyID, secret: CredentialToken.generate(kind: .host).secret)
        #expect(throws: StoreError.unauthenticated("unknown or wrong token \(parsed.keyID)")) { try database.authenticate(token: forged.text, nowMs: 12) }
        // Operator and enrollment tokens are never cached.
        let admin = try database.createOperatorToken(name: "alice", role: .admin, expiresAtMs: nil, actor: root, nowMs: 13)
        _ = try database.authenticate(token: admin.token, nowMs: 14)
        #expect(database.hostCredentials.count == 1)
    }

    @Test func revokingAHostRefusesItsNextRequestThoughItWasCached() throws {
        let database = try SluiceDatabase.inMemory()
        let tokens = try enrolled(database, ["dns1", "dns2"])
        for token in tokens.values { _ = try database.authenticate(token: token.token, nowMs: 10) }
        #expect(database.hostCredentials.count == 2)
        try database.revokeHost(Fixtures.host("dns1"), reason: "decommissioned", actor: root, nowMs: 20)
        #expect(throws: StoreError.hostRevoked("host dns1 has been revoked")) { try database.authenticate(token: tokens["dns1"]!.token, nowMs: 21) }
        #expect(try database.authenticate(token: tokens["dns2"]!.token, nowMs: 22) == .host(Fixtures.host("dns2"), keyID: tokens["dns2"]!.keyID))
    }

    @Test func everyOpeningOfTheSameFileInThisProcessSharesTheCache() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sluice.sqlite").path
        let serving = try SluiceDatabase.open(path: path, nowMs: 0)
        let token = try #require(try enrolled(serving, ["dns1"])["dns1"])
        _ = try serving.authenticate(token: token.token, nowMs: 10)
        // Revoked through another opening of the file (as a second component of the process would).
        let other = try SluiceDatabase.open(path: directory.path + "/./sluice.sqlite", nowMs: 0)
        try other.revokeHost(Fixtures.host("dns1"), reason: "stolen", actor: root, nowMs: 20)
        #expect(throws: StoreError.hostRevoked("host dns1 has been revoked")) { try serving.authenticate(token: token.token, nowMs: 21) }
    }

    @Test func aCredentialReadBeforeARevocationIsNotStoredAfterIt() {
        let cache = HostCredentialCache()
        let entry = HostCredentialCache.Entry(secretHash: Data(count: 32), host: Fixtures.host("dns1"), expiresAtMs: nil)
        let before = cache.epoch
        cache.invalidate()
        cache.store(entry, keyID: "k1", readAt: before)
        #expect(cache.entry("k1") == nil)
        cache.store(entry, keyID: "k1", readAt: cache.epoch)
        #expect(cache.entry("k1")?.host == Fixtures.host("dns1"))
    }

    @Test func pastItsCapacityTheCacheStartsAgainEmpty() {
        let cache = HostCredentialCache(capacity: 3)
        for key in ["a", "b", "c", "d"] {
            cache.store(.init(secretHash: Data(), host: Fixtures.host(key), expiresAtMs: nil), keyID: key, readAt: cache.epoch)
        }
        #expect(cache.count == 1 && cache.entry("d") != nil)
    }
}
