import SluiceTestSupport
import Foundation
import GRDB
import SluiceCore
import Testing

@testable import SluiceStore

@Suite("Rollouts in the store")
struct RolloutStoreTests {
    static let policy = Policy(
        name: "p",
        waves: [
            WaveSpec(name: "test", selector: ["environment": ["test"]]),
            WaveSpec(name: "prod", selector: ["environment": ["production"]], approval: .manual),
        ])

    /// A real SQLite file with three enrolled hosts that reported bind9 pending.
    static func fleet(_ dir: TemporaryDirectory) throws -> (SluiceDatabase, Int64) {
        let database = try SluiceDatabase.open(path: dir.file("s.sqlite"), nowMs: 1)
        let token = try database.createEnrollmentToken(name: "t", uses: 10, expiresAtMs: 1_000_000, labels: nil, actor: .local("root"), nowMs: 1)
        for (id, env) in [("t1", "test"), ("p1", "production"), ("p2", "production")] {
            let host = Fixtures.host(id)
            _ = try database.enroll(host: host, labels: Fixtures.labels(["environment": env, "role": "dns", "region": "r"]), enrollmentKeyID: token.keyID, nowMs: 2)
            try database.recordInventory(host: host, report: Fixtures.report(), nowMs: 3)
        }
        let hosts = try database.fleetHosts()
        let packages = WavePlanner.qualifyingPackages(policy: policy, hosts: hosts)
        let plan = WavePlanner.plan(policy: policy, packages: packages, hosts: hosts, nowMs: 4, staleAfterMs: 60_000)
        return (database, try database.createRollout(policy: policy, plan: plan, actor: .operatorNamed("alice"), nowMs: 5))
    }

    @Test func aRolloutIsStoredWithItsFrozenPackagesWavesAndAssignments() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (database, id) = try Self.fleet(dir)
        let detail = try database.rolloutDetail(id, nowMs: 6, staleAfterMs: 60_000)
        #expect(detail.summary.packages.map(\.description) == ["bind9=1:9.18.28-1~deb12u2"])
        #expect(detail.waves.map { $0.hosts.map(\.hostID.rawValue) } == [["t1"], ["p1", "p2"]])
        #expect(try database.auditEvents().last?.kind == "rollout.created")
        let hosts = try database.fleetHosts()
        let again = WavePlanner.plan(policy: Self.policy, packages: detail.summary.packages, hosts: hosts, nowMs: 7, staleAfterMs: 60_000)
        #expect(throws: StoreError.self, "one open rollout per policy") {
            _ = try database.createRollout(policy: Self.policy, plan: again, actor: .controller, nowMs: 7)
        }
    }

    @Test func aHostRevokedBetweenPlanningAndWritingRefusesTheRolloutAndWritesNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = try SluiceDatabase.open(path: dir.file("s.sqlite"), nowMs: 1)
        let token = try database.createEnrollmentToken(name: "t", uses: 10, expiresAtMs: 1_000_000, labels: nil, actor: .local("root"), nowMs: 1)
        for (id, env) in [("t1", "test"), ("p1", "production")] {
            _ = try database.enroll(
                host: Fixtures.host(id), labels: Fixtures.labels(["environment": env, "role": "dns", "region": "r"]), enrollmentKeyID: token.keyID, nowMs: 2)
            try database.recordInventory(host: Fixtures.host(id), report: Fixtures.report(), nowMs: 3)
        }
        let hosts = try database.fleetHosts()
        let plan = WavePlanner.plan(
            policy: Self.policy, packages: WavePlanner.qualifyingPackages(policy: Self.policy, hosts: hosts), hosts: hosts, nowMs: 4, staleAfterMs: 60_000)
        try database.revokeHost(Fixtures.host("p1"), reason: "decommissioned", actor: .operatorNamed("alice"), nowMs: 5)
        let audited = try database.auditEvents().count
        #expect(throws: StoreError.conflict("host p1 was revoked while the rollout was being planned; plan again")) {
            try database.createRollout(policy: Self.policy, plan: plan, actor: .operatorNamed("alice"), nowMs: 6)
        }
        #expect(try database.listRollouts().isEmpty)
        #expect(try database.auditEvents().count == audited)
    }

    @Test func twoOperatorsApprovingAtOnceGiveExactlyOneTransition() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (_, id) = try Self.fleet(dir)
        // Two controllers' worth of connections to the same file, racing.
        let a = try SluiceDatabase.open(path: dir.file("s.sqlite"), nowMs: 8)
        let b = try SluiceDatabase.open(path: dir.file("s.sqlite"), nowMs: 8)
        for round in 0..<20 {
            let wave = round == 0 ? "prod" : nil
            async let first: Bool = { (try? a.decide(.approve(wave: wave), rollout: id, reason: nil, actor: .operatorNamed("alice"), nowMs: 9)) != nil }()
            async let second: Bool = { (try? b.decide(.approve(wave: wave), rollout: id, reason: nil, actor: .operatorNamed("bob"), nowMs: 9)) != nil }()
            let results = await [first, second]
            if round == 0 { #expect(results.filter { $0 }.count == 1, "round \(round): \(results)") }
            async let pauseA: Bool = { (try? a.decide(.pause, rollout: id, reason: "x", actor: .operatorNamed("alice"), nowMs: 10)) != nil }()
            async let pauseB: Bool = { (try? b.decide(.pause, rollout: id, reason: "y", actor: .operatorNamed("bob"), nowMs: 10)) != nil }()
            #expect(await [pauseA, pauseB].filter { $0 }.count == 1)
            try a.decide(.resume, rollout: id, reason: "go", actor: .operatorNamed("alice"), nowMs: 11)
        }
        let kinds = try a.auditEvents(limit: 10_000).map(\.kind)
        #expect(kinds.filter { $0 == "wave.approved" }.count == 1)
        #expect(kinds.filter { $0 == "rollout.paused" }.count == 20)
    }

    @Test func aReconcilerActionAppliesOnceEvenWhenRepeated() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (database, id) = try Self.fleet(dir)
        #expect(try database.apply(.startWave(rollout: id, wave: 0), nowMs: 10))
        #expect(try database.apply(.startWave(rollout: id, wave: 0), nowMs: 11) == false)
        let assignment = try #require(try database.rolloutDetail(id, nowMs: 12, staleAfterMs: 60_000).waves[0].hosts.first)
        #expect(try database.apply(.startAssignment(rollout: id, assignment: assignment.id, host: assignment.hostID), nowMs: 12))
        #expect(try database.apply(.startAssignment(rollout: id, assignment: assignment.id, host: assignment.hostID), nowMs: 13) == false)
        #expect(try database.currentAssignment(for: assignment.hostID)?.state == .started)
        // Paused: the started-but-not-begun host is called back, and its agent may not begin.
        try database.decide(.pause, rollout: id, reason: "stop", actor: .operatorNamed("alice"), nowMs: 14)
        #expect(try database.currentAssignment(for: assignment.hostID) == nil)
        #expect(throws: StoreError.self) {
            try database.recordStep(host: assignment.hostID, assignment: assignment.id, report: ApplyStepReport(step: .started, detail: "go"), nowMs: 15)
        }
        #expect(try database.apply(.startAssignment(rollout: id, assignment: assignment.id, host: assignment.hostID), nowMs: 16) == false)
    }

    /// The first wave's first host told to go (at 12 ms) and begun (at 13 ms).
    static func applying(_ database: SluiceDatabase, _ id: Int64) throws -> AssignmentDetail {
        #expect(try database.apply(.startWave(rollout: id, wave: 0), nowMs: 10))
        let a = try #require(try database.rolloutDetail(id, nowMs: 11, staleAfterMs: 60_000).waves[0].hosts.first)
        #expect(try database.apply(.startAssignment(rollout: id, assignment: a.id, host: a.hostID), nowMs: 12))
        try database.recordStep(host: a.hostID, assignment: a.id, report: ApplyStepReport(step: .started, detail: "go"), nowMs: 13)
        return a
    }

    @Test func aFailedHostHoldsItsGroupUntilAnOperatorResolvesIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (database, id) = try Self.fleet(dir)
        let a = try Self.applying(database, id)
        try database.recordStep(
            host: a.hostID, assignment: a.id, report: ApplyStepReport(step: .finished, detail: "rollback unhealthy", outcome: .failed), nowMs: 14)
        // Even after the rollout halts, the failed host keeps holding its group.
        #expect(try database.apply(.halt(rollout: id, wave: 0, reason: "failed"), nowMs: 15))
        var holding = try database.reconcileSnapshot(staleAfterMs: 60_000).assignments.filter(\.holdsCapacity)
        #expect(holding.map(\.hostID) == [a.hostID])
        #expect(throws: StoreError.self) { try database.resolveFailures(host: Fixtures.host("p1"), reason: "x", actor: .operatorNamed("alice"), nowMs: 16) }
        #expect(try database.resolveFailures(host: a.hostID, reason: "restored by hand", actor: .operatorNamed("alice"), nowMs: 16) == 1)
        holding = try database.reconcileSnapshot(staleAfterMs: 60_000).assignments.filter(\.holdsCapacity)
        #expect(holding.isEmpty)
        #expect(try database.auditEvents().last?.kind == "host.resolved")
    }

    @Test func anAssignmentPastItsApplyDeadlineFailsOnceAndALateResultIsAuditedWithoutChangingIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (database, id) = try Self.fleet(dir)
        let a = try Self.applying(database, id)
        #expect(try database.reconcileSnapshot(staleAfterMs: 60_000).assignments.first { $0.id == a.id }?.startedAtMs == 12)

        let expire = ReconcileAction.expireAssignment(rollout: id, assignment: a.id, host: a.hostID, deadlineSeconds: 1800)
        #expect(try database.apply(expire, nowMs: 1_800_013))
        #expect(try database.apply(expire, nowMs: 1_800_014) == false, "expired once")
        let failed = try #require(try database.rolloutDetail(id, nowMs: 1_800_015, staleAfterMs: 60_000).waves[0].hosts.first { $0.id == a.id })
        #expect(failed.state == .failed && failed.detail?.contains("apply deadline (30m)") == true, "\(failed)")
        #expect(try database.auditEvents().last?.kind == "assignment.timed-out")

        // The agent comes back and reports that it succeeded: kept in the audit log, state unchanged.
        let state = try database.recordStep(
            host: a.hostID, assignment: a.id, report: ApplyStepReport(step: .finished, detail: "installed", outcome: .succeeded), nowMs: 1_800_020)
        #expect(state == .failed)
        #expect(try database.rolloutDetail(id, nowMs: 1_800_021, staleAfterMs: 60_000).waves[0].hosts.first { $0.id == a.id }?.state == .failed)
        let late = try #require(try database.auditEvents().last)
        #expect(late.kind == "agent.finished" && late.details.contains("after the apply deadline"), "\(late)")
        // Any other step for it is still refused.
        #expect(throws: StoreError.self) {
            try database.recordStep(host: a.hostID, assignment: a.id, report: ApplyStepReport(step: .restarted, detail: "x"), nowMs: 1_800_022)
        }
    }
}
