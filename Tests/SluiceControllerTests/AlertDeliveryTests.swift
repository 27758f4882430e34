import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Synchronization
import Testing

@testable import SluiceController

/// Alerts through the outbox to a real webhook receiver on loopback: written with their
/// events, delivered in order, retried while the receiver is down, signed, and kept across a
/// controller restart.
@Suite("Alerts through the outbox to the webhook")
struct AlertDeliveryTests {
    static let secret = Array("alert-secret-of-the-test-fleet".utf8)

    @Test func aReceiverDownForAnHourGetsEveryAlertOnceItIsBackInOrderSignedAfterARestart() async throws {
        let receiver = Receiver()
        try await receiver.run { url in
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let path = dir.file("sluice.sqlite")
            let clock = ManualWallClock(nowMs: 1_800_000_000_000)
            var database = try SluiceDatabase.open(path: path, nowMs: clock.nowMs())
            try Self.produceAlerts(database, clock)
            #expect(try database.outboxAlerts().map(\.alert.kind) == ["host.failed", "rollout.halted", "wave.waiting-approval", "rollout.aborted"])

            // The receiver is down for an hour: the first alert is retried with backoff, the
            // others wait behind it.
            receiver.up.withLock { $0 = false }
            var delivery = AlertDelivery(
                database: database, clock: clock, webhook: .init(url: url, secret: Self.secret), signal: ChangeSignal(), logger: Logger(label: "test"))
            let start = clock.nowMs()
            var waits: [Int64] = []
            while clock.nowMs() - start < 3_600_000 {
                let wait = try await delivery.deliverDue()
                waits.append(Int64(wait.components.seconds))
                clock.advance(byMs: Int64(wait.components.seconds) * 1000)
            }
            #expect(Array(waits.prefix(10)) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300], "backoff doubles up to five minutes")
            let tried = receiver.requests.withLock { $0 }
            #expect(!tried.isEmpty && tried.allSatisfy { $0.delivery == "1" }, "a later alert overtook the first: \(tried.map(\.delivery))")
            #expect(try database.outboxAlerts().allSatisfy { !$0.delivered })

            // sluiced restarts on its database; the receiver is back.
            database = try SluiceDatabase.open(path: path, nowMs: clock.nowMs())
            delivery = AlertDelivery(
                database: database, clock: clock, webhook: .init(url: url, secret: Self.secret), signal: ChangeSignal(), logger: Logger(label: "test"))
            receiver.up.withLock { $0 = true }
            receiver.requests.withLock { $0.removeAll() }
            clock.advance(byMs: 300_000)
            _ = try await delivery.deliverDue()

            let received = receiver.requests.withLock { $0 }
            #expect(received.map(\.delivery) == ["1", "2", "3", "4"], "once each, in order")
            #expect(received.map(\.event) == ["host.failed", "rollout.halted", "wave.waiting-approval", "rollout.aborted"])
            for request in received {
                let mac = HMAC<SHA256>.authenticationCode(for: request.body, using: SymmetricKey(data: Self.secret))
                #expect(request.signature == "sha256=" + mac.map { String(format: "%02x", $0) }.joined(), "delivery \(request.delivery)")
                let alert = try JSONDecoder().decode(Alert.self, from: request.body)
                #expect(String(alert.id) == request.delivery && alert.kind == request.event)
            }
            let halted = try JSONDecoder().decode(Alert.self, from: received[1].body)
            #expect(halted.rollout == 1 && halted.wave == "test" && halted.message.hasPrefix("rollout 1 halted: wave test: 1 host(s) failed (dns1)"), "\(halted)")
            #expect(try database.outboxAlerts().allSatisfy(\.delivered))
            // Nothing is sent twice.
            _ = try await delivery.deliverDue()
            #expect(receiver.requests.withLock { $0.count } == 4)
        }
    }

    @Test func withNoWebhookConfiguredAlertsAreRecordedAsNotSentAndALaterWebhookGetsNoBacklog() async throws {
        let database = try SluiceDatabase.inMemory()
        let clock = ManualWallClock(nowMs: 1_800_000_000_000)
        try Self.produceAlerts(database, clock)
        let delivery = AlertDelivery(database: database, clock: clock, webhook: nil, signal: ChangeSignal(), logger: Logger(label: "test"))
        _ = try await delivery.deliverDue()
        #expect(try database.nextPendingAlert() == nil)
        #expect(try database.outboxAlerts().count == 4)
    }

    @Test func aWebhookWithoutASecretFileOrWithOneEveryUserCanReadIsRefusedAtStartNamingWhy() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var settings = ControllerSettings()
        settings.alertWebhook = "https://alerts.example.internal/hooks/sluice"
        #expect(throws: InvalidInput.self) { try settings.webhook() }
        do { _ = try settings.webhook() } catch { #expect(error.message.hasPrefix("alert_webhook needs alert_secret_file")) }
        let file = dir.file("secret")
        try "a-secret-of-thirty-two-bytes-ok!\n".write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        settings.alertSecretFile = file
        do { _ = try settings.webhook() } catch { #expect(error.message == "alert_secret_file \(file) is readable by every user: chmod o-r it") }
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: file)
        #expect(try settings.webhook()?.secret == Array("a-secret-of-thirty-two-bytes-ok!".utf8))
    }

    /// dns1 (test wave) and dns2 (prod wave, manual). Rollout 1: dns1 rolls back, the rollout
    /// halts. Rollout 2: dns1 succeeds, prod waits for approval, an operator aborts.
    static func produceAlerts(_ database: SluiceDatabase, _ clock: ManualWallClock) throws {
        let token = try database.createEnrollmentToken(name: "t", uses: 2, expiresAtMs: Int64.max / 2, labels: nil, actor: .local("root"), nowMs: 0)
        for (name, environment) in [("dns1", "test"), ("dns2", "prod")] {
            let host = try HostID(parsing: name)
            _ = try database.enroll(
                host: host, labels: try Labels(validating: ["environment": environment, "role": "dns", "region": name]), enrollmentKeyID: token.keyID, nowMs: 1)
            try database.recordInventory(host: host, report: Fixtures.report(), nowMs: clock.nowMs())
            try database.recordHealth(host: host, healthy: true, detail: "ok", nowMs: clock.nowMs())
        }
        let policy = Policy(
            name: "p",
            waves: [
                WaveSpec(name: "test", selector: ["environment": ["test"]]),
                WaveSpec(name: "prod", selector: ["environment": ["prod"]], approval: .manual),
            ])
        let service = ReconcilerService(database: database, clock: clock, settings: ControllerSettings(), signal: ChangeSignal(), logger: Logger(label: "test"))
        let dns1 = try HostID(parsing: "dns1")
        for outcome in [ApplyOutcome.rolledBackBeforeRestart, .succeeded] {
            let hosts = try database.fleetHosts()
            let plan = WavePlanner.plan(
                policy: policy, packages: WavePlanner.qualifyingPackages(policy: policy, hosts: hosts), hosts: hosts, nowMs: clock.nowMs(), staleAfterMs: 300_000)
            let id = try database.createRollout(policy: policy, plan: plan, actor: .operatorNamed("alice"), nowMs: clock.nowMs())
            while try !service.pass().isEmpty {}
            let assignment = try #require(try database.currentAssignment(for: dns1))
            try database.recordStep(host: dns1, assignment: assignment.id, report: ApplyStepReport(step: .started, detail: "go"), nowMs: clock.nowMs())
            try database.recordStep(
                host: dns1, assignment: assignment.id, report: ApplyStepReport(step: .finished, detail: "validation failed", outcome: outcome), nowMs: clock.nowMs())
            clock.advance(byMs: 1000)
            try database.recordHealth(host: dns1, healthy: true, detail: "ok", nowMs: clock.nowMs())
            while try !service.pass().isEmpty {}
            if outcome == .succeeded {
                try database.decide(.abort, rollout: id, reason: "CHG-1: superseded", actor: .operatorNamed("alice"), nowMs: clock.nowMs())
            }
        }
    }

    /// A webhook receiver on loopback that answers 503 while it is down, and records every request.
    final class Receiver: Sendable {
        struct Request: Sendable {
            var delivery: String
            var event: String
            var signature: String
            var body: Data
        }

        let up = Mutex(true)
        let requests = Mutex<[Request]>([])

        func run(_ body: @Sendable (String) async throws -> Void) async throws {
            let router = Router()
            router.post("/hook") { [self] request, _ -> HTTPResponse.Status in
                let bytes = try await request.body.collect(upTo: 1 << 20)
                requests.withLock {
                    $0.append(
                        Request(
                            delivery: request.headers[.init("X-Sluice-Delivery")!] ?? "", event: request.headers[.init("X-Sluice-Event")!] ?? "",
                            signature: request.headers[.init("X-Sluice-Signature")!] ?? "", body: Data(buffer: bytes)))
                }
                return up.withLock { $0 } ? .noContent : .serviceUnavailable
            }
            let port = Mutex(0)
            let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { channel in
                port.withLock { $0 = channel.localAddress?.port ?? 0 }
                readyContinuation.yield()
            })
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.runService() }
                for await _ in ready { break }
                try await body("http://127.0.0.1:\(port.withLock { $0 })/hook")
                group.cancelAll()
            }
        }
    }
}
