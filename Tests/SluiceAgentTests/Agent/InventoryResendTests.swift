@testable import SluiceAgent
import SluiceAPI
import SluiceClient
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
        #expect(InventoryResend().action(for: try Self.report(), now: .now) == .send)
    }

    @Test func anUnchangedInventoryIsNotSentAgainWithinTheRefresh() throws {
        var resend = InventoryResend()
        let start = ContinuousClock.now
        resend.accepted(try Self.report(), at: start)
        #expect(resend.action(for: try Self.report(), now: start + .seconds(60)) == .wait)
        #expect(resend.action(for: try Self.report(), now: start + .seconds(3599)) == .wait)
    }

    @Test func anUnchangedInventoryIsConfirmedByItsDigestAfterTheRefresh() throws {
        var resend = InventoryResend()
        let start = ContinuousClock.now
        resend.accepted(try Self.report(), at: start)
        #expect(
            resend.action(for: try Self.report(), now: start + InventoryResend.defaultRefresh)
                == .confirm(digest: InventoryDigest.hex(of: try Self.report())))
    }

    @Test func anyChangeIsSentAtOnce() throws {
        var resend = InventoryResend()
        let start = ContinuousClock.now
        resend.accepted(try Self.report(), at: start)
        #expect(resend.action(for: try Self.report(rebootRequired: true), now: start + .seconds(1)) == .send)
        #expect(resend.action(for: try Self.report(labels: ["role": "dns"]), now: start + .seconds(1)) == .send)
        // Also once the refresh is due: a digest never stands for a changed inventory, nor for other labels.
        #expect(resend.action(for: try Self.report(rebootRequired: true), now: start + InventoryResend.defaultRefresh) == .send)
        #expect(resend.action(for: try Self.report(labels: ["role": "dns"]), now: start + InventoryResend.defaultRefresh) == .send)
    }

    @Test func aSendThatFailedIsNotCountedAsAccepted() throws {
        // Only `accepted` moves the baseline: a report the controller never took is sent again.
        var resend = InventoryResend()
        let start = ContinuousClock.now
        resend.accepted(try Self.report(), at: start)
        let changed = try Self.report(rebootRequired: true)
        #expect(resend.action(for: changed, now: start + .seconds(60)) == .send)
        #expect(resend.action(for: changed, now: start + .seconds(120)) == .send)
    }

    // MARK: Delivery

    static let host = try! HostID(parsing: "dns1")
    static let accepted = ReportAccepted(changed: false, nextReportSeconds: 60)

    @Test func afterTheRefreshOnlyTheDigestAndLabelsAreSentAndCountAsARefresh() async throws {
        let receiver = RecordingReceiver(confirmation: .accepted(Self.accepted))
        let report = try Self.report(labels: ["role": "dns"])
        var resend = InventoryResend()
        let start = ContinuousClock.now

        #expect(try await resend.deliver(report, host: Self.host, to: receiver, now: start) == .reported(Self.accepted))
        #expect(try await resend.deliver(report, host: Self.host, to: receiver, now: start + .seconds(60)) == .notSent)
        let due = start + InventoryResend.defaultRefresh
        #expect(try await resend.deliver(report, host: Self.host, to: receiver, now: due) == .confirmed(Self.accepted))
        // Refreshed: the next hour is quiet again.
        #expect(try await resend.deliver(report, host: Self.host, to: receiver, now: due + .seconds(60)) == .notSent)
        #expect(resend.action(for: report, now: due + InventoryResend.defaultRefresh - .seconds(1)) == .wait)

        let calls = await receiver.calls
        #expect(calls == [.report(report), .confirm(InventoryConfirmation(digest: InventoryDigest.hex(of: report), labels: report.labels))])
    }

    @Test func aRefusedConfirmationIsFollowedByTheFullReportAtOnce() async throws {
        let receiver = RecordingReceiver(confirmation: .differs)
        let report = try Self.report()
        var resend = InventoryResend()
        let start = ContinuousClock.now
        resend.accepted(report, at: start)

        let due = start + InventoryResend.defaultRefresh
        #expect(try await resend.deliver(report, host: Self.host, to: receiver, now: due) == .reportedAfterRefusal(Self.accepted))
        #expect(await receiver.calls == [.confirm(InventoryConfirmation(digest: InventoryDigest.hex(of: report))), .report(report)])
        #expect(resend.action(for: report, now: due + .seconds(60)) == .wait)
    }

    @Test func aConfirmationThatFailedIsTriedAgainAtTheNextInterval() async throws {
        let receiver = RecordingReceiver(confirmation: nil)
        let report = try Self.report()
        var resend = InventoryResend()
        let start = ContinuousClock.now
        resend.accepted(report, at: start)

        let due = start + InventoryResend.defaultRefresh
        await #expect(throws: ClientError.self) { try await resend.deliver(report, host: Self.host, to: receiver, now: due) }
        #expect(resend.action(for: report, now: due + .seconds(60)) == .confirm(digest: InventoryDigest.hex(of: report)))
        #expect(await receiver.calls.count == 1)
    }
}

/// Records what the agent sends; answers reports with `InventoryResendTests.accepted` and
/// confirmations with `confirmation` (or a transport failure when nil).
private actor RecordingReceiver: InventoryReceiver {
    enum Call: Equatable {
        case report(InventoryReport)
        case confirm(InventoryConfirmation)
    }

    let confirmation: InventoryConfirmationOutcome?
    var calls: [Call] = []

    init(confirmation: InventoryConfirmationOutcome?) { self.confirmation = confirmation }

    func reportInventory(host: HostID, _ report: InventoryReport) async throws -> ReportAccepted {
        calls.append(.report(report))
        return InventoryResendTests.accepted
    }

    func confirmInventory(host: HostID, _ confirmation: InventoryConfirmation) async throws -> InventoryConfirmationOutcome {
        calls.append(.confirm(confirmation))
        guard let answer = self.confirmation else { throw ClientError.unreachable("cannot reach the controller") }
        return answer
    }
}
