import SluiceTestSupport
import Foundation
import Logging
import SluiceCore
import SluiceStore
import Testing

@testable import SluiceController

@Suite("Automatic mode in the controller")
struct RolloutSchedulerTests {
    @Test func aPolicyWithANewCandidatesScheduleGetsItsRolloutCreatedByTheControllerOnce() throws {
        let database = try SluiceDatabase.inMemory()
        let clock = ManualWallClock(nowMs: 1_000_000)
        let token = try database.createEnrollmentToken(name: "t", uses: 5, expiresAtMs: Int64.max / 2, labels: nil, actor: .local("root"), nowMs: 0)
        let host = try HostID(parsing: "dns1")
        _ = try database.enroll(host: host, labels: try Labels(validating: ["environment": "test", "role": "dns", "region": "r"]), enrollmentKeyID: token.keyID, nowMs: 1)
        try database.recordInventory(host: host, report: Fixtures.report(), nowMs: 2)
        let policy = Policy(
            name: "auto", waves: [WaveSpec(name: "all", selector: ["environment": ["test"]])], schedule: .onNewCandidates(debounceSeconds: 60))
        let scheduler = RolloutScheduler(
            database: database, clock: clock, settings: ControllerSettings(), policies: [policy], signal: ChangeSignal(), logger: Logger(label: "t"))
        #expect(try scheduler.pass().isEmpty, "first sight of the candidates starts the debounce")
        clock.advance(byMs: 61_000)
        let created = try scheduler.pass()
        #expect(created.count == 1)
        #expect(try database.listRollouts().first?.createdBy == "controller")
        clock.advance(byMs: 600_000)
        #expect(try scheduler.pass().isEmpty, "one open rollout per policy, and the same set only once")
    }
}
