import SluiceTestSupport
import Foundation
import SluiceCore
import Testing

@testable import SluiceStore

@Suite("Reverts in the store")
struct RevertStoreTests {
    /// The fleet of `RolloutStoreTests` with t1 updated (bind9 from 1:9.18.24-1) and the rollout
    /// still running: p1 and p2 pending behind the manual wave.
    static func updatedTestHost(_ dir: TemporaryDirectory) throws -> (SluiceDatabase, Int64, Int64) {
        let (database, id) = try RolloutStoreTests.fleet(dir)
        try database.apply(.startWave(rollout: id, wave: 0), nowMs: 10)
        let t1 = try #require(try database.rolloutDetail(id, nowMs: 10, staleAfterMs: 60_000).waves[0].hosts.first)
        try database.apply(.startAssignment(rollout: id, assignment: t1.id, host: t1.hostID), nowMs: 11)
        try database.recordStep(host: t1.hostID, assignment: t1.id, report: ApplyStepReport(step: .started, detail: "go"), nowMs: 12)
        try database.recordStep(
            host: t1.hostID, assignment: t1.id,
            report: ApplyStepReport(
                step: .finished, detail: "installed; healthy", versionsBefore: ["bind9": "1:9.18.24-1"], versionsAfter: ["bind9": "1:9.18.28-1~deb12u2"],
                outcome: .succeeded), nowMs: 13)
        return (database, id, t1.id)
    }

    @Test func revertReinstallsEachChangedHostsPreviousVersionsAsAssignmentsOfItsOwn() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (database, id, original) = try Self.updatedTestHost(dir)
        try database.decide(.abort, rollout: id, reason: "bind9 regression", actor: .operatorNamed("alice"), nowMs: 20)

        let revert = try database.revertRollout(id, host: nil, reason: "CHG-7 bind9 regression", actor: .operatorNamed("alice"), nowMs: 21)
        let detail = try database.rolloutDetail(revert, nowMs: 22, staleAfterMs: 60_000)
        #expect(detail.summary.policy == "p" && detail.summary.state == .running && detail.summary.revertOf == id)
        #expect(try database.rolloutDetail(id, nowMs: 22, staleAfterMs: 60_000).summary.revertOf == nil)
        #expect(detail.summary.packages.map(\.description) == ["bind9=1:9.18.24-1"])
        #expect(detail.waves.map(\.name) == ["revert"] && detail.waves[0].hosts.map(\.hostID.rawValue) == ["t1"], "only the changed host: \(detail.waves)")

        // The agent is told exactly the previous version, and whose saved packages hold it.
        try database.apply(.startWave(rollout: revert, wave: 0), nowMs: 23)
        let assignment = detail.waves[0].hosts[0]
        try database.apply(.startAssignment(rollout: revert, assignment: assignment.id, host: assignment.hostID), nowMs: 24)
        let told = try #require(try database.currentAssignment(for: Fixtures.host("t1"), keepSaved: (25, 1000)))
        #expect(told.instructions.packages.map(\.description) == ["bind9=1:9.18.24-1"])
        #expect(told.instructions.revertsAssignment == original)
        #expect(told.instructions.keepSavedFrom == [original], "the original ended 5 ms ago, within the retention")

        let requested = try #require(try database.auditEvents(limit: 1000).last { $0.kind == "rollout.revert-requested" })
        #expect(requested.rolloutID == id && requested.actor == Actor.operatorNamed("alice").description)
        #expect(AuditDetails(requested.details)["revertRollout"] == String(revert) && AuditDetails(requested.details)["hosts"] == "t1")
        #expect(try database.nextPendingAlertKinds().contains("rollout.reverting"))

        // Its end is audited on the original rollout too.
        try database.recordStep(host: Fixtures.host("t1"), assignment: assignment.id, report: ApplyStepReport(step: .started, detail: "go"), nowMs: 26)
        try database.recordStep(
            host: Fixtures.host("t1"), assignment: assignment.id, report: ApplyStepReport(step: .finished, detail: "reverted; healthy", outcome: .succeeded),
            nowMs: 27)
        let finished = try #require(try database.auditEvents(limit: 1000).last { $0.kind == "revert.finished" })
        #expect(finished.rolloutID == id && finished.hostID == "t1" && AuditDetails(finished.details)["state"] == "succeeded")
        #expect(try database.rolloutDetail(revert, nowMs: 28, staleAfterMs: 60_000).waves[0].hosts[0].state == .succeeded)

        // The original's postmortem says who asked, and what became of the host.
        let postmortem = Postmortem(history: try database.rolloutHistory(id))
        #expect(
            postmortem.reverts.map(\.text) == [
                "operator:alice asked to revert t1 to bind9=1:9.18.24-1 (rollout \(revert)): CHG-7 bind9 regression",
                "t1 revert succeeded (succeeded) to bind9=1:9.18.24-1: reverted; healthy",
            ], "\(postmortem.reverts)")
        #expect(postmortem.markdown(zone: TimeZone(identifier: "UTC")!, slo: 99.9).contains("## Reverts\n\n- "))
    }

    @Test func badRevertRequestsGetOneLineAndChangeNothing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (database, id, _) = try Self.updatedTestHost(dir)
        let alice = Actor.operatorNamed("alice")
        let before = try database.auditEvents(limit: 10_000).count
        #expect(throws: StoreError.notFound("rollout 99 does not exist")) { try database.revertRollout(99, host: nil, reason: "r", actor: alice, nowMs: 30) }
        #expect(throws: StoreError.conflict("rollout \(id) is running; abort it (or let it end) before reverting it")) {
            try database.revertRollout(id, host: nil, reason: "r", actor: alice, nowMs: 30)
        }
        try database.decide(.abort, rollout: id, reason: "stop", actor: alice, nowMs: 31)
        let aborted = try database.auditEvents(limit: 10_000).count
        #expect(aborted == before + 1)
        #expect(throws: StoreError.notFound("host nope has no assignment in rollout \(id)")) {
            try database.revertRollout(id, host: Fixtures.host("nope"), reason: "r", actor: alice, nowMs: 32)
        }
        #expect(throws: StoreError.conflict("host p1 was not changed by rollout \(id) (its assignment is cancelled); nothing to revert")) {
            try database.revertRollout(id, host: Fixtures.host("p1"), reason: "r", actor: alice, nowMs: 32)
        }
        #expect(try database.auditEvents(limit: 10_000).count == aborted, "a refused revert wrote nothing")
        #expect(try database.listRollouts().count == 1)

        let revert = try database.revertRollout(id, host: Fixtures.host("t1"), reason: "r", actor: alice, nowMs: 33)
        #expect(throws: StoreError.conflict("policy p has an open rollout (\(revert)); a revert waits until it ends")) {
            try database.revertRollout(id, host: Fixtures.host("t1"), reason: "again", actor: alice, nowMs: 34)
        }
        try database.decide(.abort, rollout: revert, reason: "stop", actor: alice, nowMs: 35)
        #expect(throws: StoreError.conflict("rollout \(revert) is itself a revert (of rollout \(id)); create a new rollout instead")) {
            try database.revertRollout(revert, host: nil, reason: "r", actor: alice, nowMs: 36)
        }
    }

    @Test func onFailureRevertHaltsAndRevertsTheUnhealthyHostsInOneStep() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (database, id, _) = try Self.updatedTestHost(dir)
        #expect(try database.apply(.haltAndRevert(rollout: id, wave: 0, reason: "wave test: host t1 unhealthy during soak", hosts: [Fixtures.host("t1")]), nowMs: 40))
        let rollouts = try database.listRollouts()
        #expect(rollouts.map(\.state) == [.running, .halted], "\(rollouts)")
        let revert = try #require(rollouts.first)
        #expect(try database.rolloutDetail(revert.id, nowMs: 41, staleAfterMs: 60_000).waves[0].hosts.map(\.hostID.rawValue) == ["t1"])
        let requested = try #require(try database.auditEvents(limit: 1000).last { $0.kind == "rollout.revert-requested" })
        #expect(requested.actor == Actor.controller.description && AuditDetails(requested.details)["reason"]?.hasPrefix("on_failure: revert") == true)
        #expect(try database.apply(.haltAndRevert(rollout: id, wave: 0, reason: "again", hosts: [Fixtures.host("t1")]), nowMs: 42) == false)
    }

    @Test func theRevertOfAnUnhealthyHostStartsRegardlessAndPassesOnceItsAgentReportsItHealthyAgain() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (database, id, _) = try Self.updatedTestHost(dir)
        let t1 = Fixtures.host("t1")
        try database.recordHealth(host: t1, healthy: false, detail: "dns 127.0.0.1:53: no answer", nowMs: 40)
        try database.apply(.haltAndRevert(rollout: id, wave: 0, reason: "wave test: host t1 unhealthy during soak", hosts: [t1]), nowMs: 41)
        let revert = try #require(try database.listRollouts().first { $0.state == .running }).id
        /// Reconciler passes on the stored state, applied, until nothing changes; the actions taken.
        func settle(at nowMs: Int64) throws -> [ReconcileAction] {
            var taken: [ReconcileAction] = []
            for _ in 0..<10 {
                let actions = Reconciler.decide(try database.reconcileSnapshot(staleAfterMs: 60_000), nowMs: nowMs)
                let applied = try actions.filter { try database.apply($0, nowMs: nowMs) }
                if applied.isEmpty { break }
                taken += applied
            }
            return taken
        }

        let started = try settle(at: 42)
        let assignment = try #require(try database.rolloutDetail(revert, nowMs: 42, staleAfterMs: 60_000).waves[0].hosts.first)
        #expect(started == [.startWave(rollout: revert, wave: 0), .startAssignment(rollout: revert, assignment: assignment.id, host: t1)], "\(started)")
        try database.recordStep(host: t1, assignment: assignment.id, report: ApplyStepReport(step: .started, detail: "go"), nowMs: 43)
        try database.recordStep(
            host: t1, assignment: assignment.id,
            report: ApplyStepReport(step: .finished, detail: "reverted; healthy", versionsBefore: ["bind9": "1:9.18.28-1~deb12u2"], outcome: .succeeded), nowMs: 44)

        // The agent's checks passed after the revert: healthy now, not at its next heartbeat.
        #expect(try database.reconcileSnapshot(staleAfterMs: 60_000).hosts[t1]?.healthy == true)
        #expect(try settle(at: 45) == [.beginSoak(rollout: revert, wave: 0), .passWave(rollout: revert, wave: 0), .complete(rollout: revert)])
        #expect(try database.rolloutDetail(revert, nowMs: 46, staleAfterMs: 60_000).summary.state == .completed)
        #expect(try database.rolloutDetail(id, nowMs: 46, staleAfterMs: 60_000).summary.state == .halted)
    }

    @Test func savedPackagesAreKeptWhileTheRolloutRunsAndForTheRetentionAfterIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (database, id, original) = try Self.updatedTestHost(dir)
        let t1 = Fixtures.host("t1")
        #expect(try database.savedPackagesToKeep(host: t1, nowMs: 1_000_000, retentionMs: 10) == [original], "running: kept whatever the retention")
        try database.decide(.abort, rollout: id, reason: "stop", actor: .operatorNamed("alice"), nowMs: 100)
        #expect(try database.savedPackagesToKeep(host: t1, nowMs: 110, retentionMs: 10) == [original])
        #expect(try database.savedPackagesToKeep(host: t1, nowMs: 111, retentionMs: 10) == [])
    }
}

extension SluiceDatabase {
    /// The kinds of every alert waiting in the outbox.
    func nextPendingAlertKinds() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "SELECT kind FROM alert_outbox WHERE delivered_at_ms IS NULL ORDER BY id") }
    }
}
