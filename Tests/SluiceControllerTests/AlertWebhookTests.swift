import SluiceTestSupport
import Foundation
import Hummingbird
import Logging
import NIOCore
import SluiceCore
import SluiceStore
import Synchronization
import Testing

@testable import SluiceController

@Suite("Alerts to the webhook")
struct AlertWebhookTests {
    /// A halted rollout posts one JSON alert to the configured webhook, a real HTTP server on loopback.
    @Test func aHaltPostsAJSONAlertToTheWebhook() async throws {
        let received = Mutex<[Alert]>([])
        let router = Router()
        router.post("/hook") { request, context -> HTTPResponse.Status in
            let alert = try await request.decode(as: Alert.self, context: context)
            received.withLock { $0.append(alert) }
            return .ok
        }
        let port = Mutex<Int>(0)
        let hook = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { channel in
            port.withLock { $0 = channel.localAddress?.port ?? 0 }
        })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await hook.runService() }
            while port.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }

            // A rollout whose only host fails: the reconciler halts it and alerts.
            let database = try SluiceDatabase.inMemory()
            let clock = ManualWallClock(nowMs: 1_000_000)
            let token = try database.createEnrollmentToken(name: "t", uses: 1, expiresAtMs: Int64.max / 2, labels: nil, actor: .local("root"), nowMs: 0)
            let host = try HostID(parsing: "dns1")
            _ = try database.enroll(host: host, labels: try Labels(validating: ["environment": "test"]), enrollmentKeyID: token.keyID, nowMs: 1)
            try database.recordInventory(host: host, report: Fixtures.report(), nowMs: clock.nowMs())
            let policy = Policy(name: "p", waves: [WaveSpec(name: "all", selector: ["environment": ["test"]])])
            let hosts = try database.fleetHosts()
            let plan = WavePlanner.plan(
                policy: policy, packages: WavePlanner.qualifyingPackages(policy: policy, hosts: hosts), hosts: hosts, nowMs: clock.nowMs(), staleAfterMs: 60_000)
            let id = try database.createRollout(policy: policy, plan: plan, actor: .operatorNamed("alice"), nowMs: clock.nowMs())
            var settings = ControllerSettings()
            settings.alertWebhook = "http://127.0.0.1:\(port.withLock { $0 })/hook"
            let logger = Logger(label: "test")
            let service = ReconcilerService(
                database: database, clock: clock, settings: settings, signal: ChangeSignal(),
                alerts: AlertSender(url: URL(string: settings.alertWebhook!)!, logger: logger), logger: logger)
            while try !service.pass().isEmpty {}
            let assignment = try #require(try database.currentAssignment(for: host))
            try database.recordStep(host: host, assignment: assignment.id, report: ApplyStepReport(step: .started, detail: "go"), nowMs: clock.nowMs())
            try database.recordStep(
                host: host, assignment: assignment.id,
                report: ApplyStepReport(step: .finished, detail: "validation failed", outcome: .rolledBackBeforeRestart), nowMs: clock.nowMs())
            while try !service.pass().isEmpty {}
            #expect(try database.listRollouts().first?.state == .halted)

            // Delivery is asynchronous and retried; wait for it (bounded), not for a fixed time.
            for _ in 0..<500 where received.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(20)) }
            let alerts = received.withLock { $0 }
            #expect(alerts.count == 1)
            #expect(alerts.first?.kind == "rollout.halted")
            #expect(alerts.first?.rollout == id)
            #expect(alerts.first?.message.contains("dns1") == true)
            group.cancelAll()
        }
    }
}
