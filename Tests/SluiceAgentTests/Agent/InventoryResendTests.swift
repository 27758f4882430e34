@testable import SluiceAgent
import SluiceCore
import Testing

@Suite("The agent sends its inventory when it changed, not every interval")
struct InventoryResendTests {
    static func report(rebootRequired: Bool = false, labels: [String: String]? = nil) throws -> InventoryReport {
        InventoryReport(
            agentVersion: "test", os: OSRelease(id: "debian", versionID: "12", versionCodename: "bookworm", prettyName: "Debian 12"),
            installed: [InstalledPackage(name: try PackageName(parsing: "bind9"), architecture: try Architecture(parsing: "amd64"), version: try DebianVersion(parsing: "1:9.18.24-1"), status: "ii")],
            candidates: [], rebootRequired: rebootRequired, rebootRequiredPackages: [],
            unattendedUpgrades: UnattendedUpgradesStatus(enabled: false, detail: "off"),
            labels: try labels.map { try Labels(validating: $0) })
    }

    @Test func theFirstInventoryIsAlwaysSent() throws {
        #expect(InventoryResend().needsSending(try Self.report(), now: .now))
    }

    @Test func anUnchangedInventoryIsNotSentAgainWithinTheRefresh() throws {
        var resend = InventoryResend()
        let start = ContinuousClock.now
        resend.accepted(try Self.report(), at: start)
        #expect(!resend.needsSending(try Self.report(), now: start + .seconds(60)))
        #expect(!resend.needsSending(try Self.report(), now: start + .seconds(3599)))
    }

    @Test func anUnchangedInventoryIsSentAgainAfterTheRefresh() throws {
        var resend = InventoryResend()
        let start = ContinuousClock.now
        resend.accepted(try Self.report(), at: start)
        #expect(resend.needsSending(try Self.report(), now: start + InventoryResend.defaultRefresh))
    }

    @Test func anyChangeIsSentAtOnce() throws {
        var resend = InventoryResend()
        let start = ContinuousClock.now
        resend.accepted(try Self.report(), at: start)
        #expect(resend.needsSending(try Self.report(rebootRequired: true), now: start + .seconds(1)))
        #expect(resend.needsSending(try Self.report(labels: ["role": "dns"]), now: start + .seconds(1)))
    }

    @Test func aSendThatFailedIsNotCountedAsAccepted() throws {
        // Only `accepted` moves the baseline: a report the controller never took is sent again.
        var resend = InventoryResend()
        let start = ContinuousClock.now
        resend.accepted(try Self.report(), at: start)
        let changed = try Self.report(rebootRequired: true)
        #expect(resend.needsSending(changed, now: start + .seconds(60)))
        #expect(resend.needsSending(changed, now: start + .seconds(120)))
    }
}
