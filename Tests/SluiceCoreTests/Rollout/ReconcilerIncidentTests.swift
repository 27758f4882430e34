import SluiceCore
import Testing

/// The outage of incident-postmortem.txt, replayed through the reconciler.
@Suite("Reconciler: the bind9 incident")
struct ReconcilerIncidentTests {
    static func host(_ id: String) -> HostID { try! HostID(parsing: id) }
    static func labels(_ values: [String: String]) -> Labels { try! Labels(validating: values) }

    static let policy = Policy(
        name: "security-updates",
        waves: [
            WaveSpec(name: "test", selector: ["environment": ["test"]], strategy: .all, soakSeconds: 3600),
            WaveSpec(name: "canary", selector: ["environment": ["production"]], strategy: .onePerGroup, soakSeconds: 1800, approval: .manual),
            WaveSpec(name: "rest", selector: ["environment": ["production"]], strategy: .batches(size: .hosts(2)), soakSeconds: 600, approval: .manual),
        ])

    static let fleet: [(HostID, Labels)] = [
        (host("test1"), labels(["environment": "test", "role": "dns-resolver", "region": "test"])),
        (host("dns1.osc-fr1"), labels(["environment": "production", "role": "dns-resolver", "region": "osc-fr1"])),
        (host("dns2.osc-fr1"), labels(["environment": "production", "role": "dns-resolver", "region": "osc-fr1"])),
        (host("dns1.osc-secnum-fr1"), labels(["environment": "production", "role": "dns-resolver", "region": "osc-secnum-fr1"])),
        (host("dns2.osc-secnum-fr1"), labels(["environment": "production", "role": "dns-resolver", "region": "osc-secnum-fr1"])),
        (host("app1.osc-fr1"), labels(["environment": "production", "role": "app", "region": "osc-fr1"])),
        (host("app2.osc-fr1"), labels(["environment": "production", "role": "app", "region": "osc-fr1"])),
    ]

    static let bind = try! PackagePin(parsing: "bind9=1:9.18.28-1~deb12u2")

    @Test func theBindUpdateFailingOnTheFirstResolverHaltsBeforeAnyOtherResolverIsAssigned() {
        var world = FleetModel(policy: Self.policy, fleet: Self.fleet, packages: [Self.bind])
        // The test host's config has no dnssec-enable: it passes and soaks an hour.
        world.settle()
        #expect(world.assignment(of: "test1")?.state == .started)
        #expect(world.assignments.filter { $0.state != .pending }.count == 1, "only the test host may start first")
        world.agentFinishes(Self.host("test1"), outcome: .succeeded)
        world.settle()
        #expect(world.rollout.waves[0].state == .soaking)
        world.advance(minutes: 59)
        world.settle()
        #expect(world.rollout.waves[0].state == .soaking, "the soak is an hour")
        world.advance(minutes: 1)
        world.settle()
        #expect(world.rollout.waves[0].state == .passed)
        #expect(world.rollout.waves[1].state == .pending, "production canaries wait for approval")
        world.approve(wave: 1)
        world.settle()
        // One canary at a time: the first resolver it reaches.
        let started = world.assignments.filter { $0.state == .started }
        #expect(started.map(\.hostID.rawValue) == ["app1.osc-fr1"] || started.map(\.hostID.rawValue) == ["dns1.osc-fr1"])
        // Drive canaries in order until the first resolver is reached, then it fails validation.
        while let a = world.assignments.first(where: { $0.state == .started }), !a.hostID.rawValue.hasPrefix("dns") {
            world.agentFinishes(a.hostID, outcome: .succeeded)
            world.settle()
        }
        let first = world.assignments.first { $0.state == .started }!
        #expect(first.hostID.rawValue == "dns1.osc-fr1")
        world.agentFinishes(first.hostID, outcome: .rolledBack)
        world.settle()

        #expect(world.rollout.state == .halted)
        for other in ["dns2.osc-fr1", "dns1.osc-secnum-fr1", "dns2.osc-secnum-fr1"] {
            #expect(world.assignment(of: other)?.state == .cancelled, "\(other) was assigned")
        }
        // Nothing starts after the halt, however long we wait.
        world.advance(minutes: 600)
        world.settle()
        #expect(world.assignments.filter { $0.state == .started }.isEmpty)
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func theSecondResolverOfAGroupNeverStartsWhileTheFirstIsInFlight() {
        let policy = Policy(name: "all-at-once", waves: [WaveSpec(name: "everything", selector: ["role": ["dns-resolver"]], strategy: .all)])
        var world = FleetModel(policy: policy, fleet: Self.fleet, packages: [Self.bind])
        world.settle()
        let started = Set(world.assignments.filter { $0.state == .started }.map(\.hostID.rawValue))
        // One per group: test's resolver, one of each region's pair.
        #expect(started.count == 3)
        #expect(!(started.contains("dns1.osc-fr1") && started.contains("dns2.osc-fr1")))
        #expect(world.violations.isEmpty)
    }

    @Test func aHostThatGoesSilentDuringTheSoakCountsAsUnhealthyOnceStaleAndHaltsTheRollout() {
        var world = FleetModel(policy: Self.policy, fleet: Self.fleet, packages: [Self.bind])
        world.settle()
        world.agentFinishes(Self.host("test1"), outcome: .succeeded)
        world.settle()
        #expect(world.rollout.waves[0].state == .soaking)
        world.silent.insert(Self.host("test1"))
        // Within stale_after the host is only late: nothing happens.
        world.advance(ms: world.snapshot.staleAfterMs)
        #expect(Reconciler.decide(world.snapshot, nowMs: world.nowMs).isEmpty)
        world.advance(ms: 1)
        let actions = Reconciler.decide(world.snapshot, nowMs: world.nowMs)
        #expect(actions.contains { if case .reportSilent(_, let h, _) = $0 { h.rawValue == "test1" } else { false } })
        #expect(actions.contains { if case .halt(_, 0, let reason) = $0 { reason.hasPrefix("wave test: host test1 silent during soak (no heartbeat for ") } else { false } }, "\(actions)")
        world.settle()
        #expect(world.rollout.state == .halted)
        #expect(world.assignments.filter { $0.hostID.rawValue != "test1" }.allSatisfy { $0.state == .cancelled })
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func aHostSilentWhileItsWaveIsStillApplyingBlocksButDoesNotHaltBeforeItsDeadline() {
        var world = FleetModel(policy: Self.policy, fleet: Self.fleet, packages: [Self.bind])
        world.settle()
        world.silent.insert(Self.host("test1"))
        world.advance(minutes: 10)
        let actions = Reconciler.decide(world.snapshot, nowMs: world.nowMs)
        #expect(actions.contains { if case .reportSilent(_, let h, _) = $0 { h.rawValue == "test1" } else { false } })
        #expect(!actions.contains { if case .halt = $0 { true } else { false } }, "the apply deadline decides an in-flight host: \(actions)")
    }

    @Test func aHostThatTookItsAssignmentAndWentSilentFailsAtTheApplyDeadlineAndHaltsTheRollout() {
        var world = FleetModel(policy: Self.policy, fleet: Self.fleet, packages: [Self.bind])
        world.settle()
        let test1 = Self.host("test1")
        #expect(world.assignments.first { $0.hostID == test1 }?.state == .started)
        world.silent.insert(test1)
        world.advance(minutes: 29)
        #expect(!Reconciler.decide(world.snapshot, nowMs: world.nowMs).contains { if case .expireAssignment = $0 { true } else { false } })
        world.settle()
        #expect(world.rollout.state == .running, "silent but within the deadline: waiting")
        world.advance(minutes: 2)
        let actions = Reconciler.decide(world.snapshot, nowMs: world.nowMs)
        #expect(actions.contains { if case .expireAssignment(_, _, let h, 1800) = $0 { h == test1 } else { false } })
        #expect(!actions.contains { if case .halt = $0 { true } else { false } }, "the expiry is counted on the next pass, from the stored state")
        world.settle()
        #expect(world.assignments.first { $0.hostID == test1 }?.state == .failed)
        #expect(world.rollout.state == .halted)
        #expect(world.assignments.filter { $0.hostID != test1 }.allSatisfy { $0.state == .cancelled || $0.state == .pending })
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func anUnhealthyReportDuringTheSoakHalts() {
        var world = FleetModel(policy: Self.policy, fleet: Self.fleet, packages: [Self.bind])
        world.settle()
        world.agentFinishes(Self.host("test1"), outcome: .succeeded)
        world.settle()
        world.advance(minutes: 10)
        world.setHealth(Self.host("test1"), healthy: false)
        world.settle()
        #expect(world.rollout.state == .halted)
        #expect(world.assignments.filter { $0.waveIndex > 0 }.allSatisfy { $0.state == .cancelled })
    }

    @Test func pausingStopsNewStartsAndResumingContinues() {
        let policy = Policy(name: "p", waves: [WaveSpec(name: "all", selector: ["environment": ["production"]], strategy: .batches(size: .hosts(1)))])
        var world = FleetModel(policy: policy, fleet: Self.fleet, packages: [Self.bind])
        world.settle()
        let first = world.assignments.first { $0.state == .started }!
        world.pause()
        world.agentFinishes(first.hostID, outcome: .succeeded)
        world.settle()
        #expect(world.assignments.filter { $0.state == .started }.isEmpty, "nothing new starts while paused")
        world.resume()
        world.settle()
        #expect(world.assignments.filter { $0.state == .started }.count == 1)
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func aCanaryThatTurnsUnhealthyAfterItsSoakHaltsAndItsPeerNeverStarts() {
        let policy = Policy(
            name: "p",
            waves: [
                WaveSpec(name: "canary", selector: ["role": ["dns-resolver"], "environment": ["production"]], strategy: .onePerGroup, soakSeconds: 60),
                WaveSpec(name: "rest", selector: ["role": ["dns-resolver"], "environment": ["production"]], strategy: .all, soakSeconds: 60),
            ])
        let fleet = Self.fleet.filter { $0.0.rawValue.hasPrefix("dns") && $0.0.rawValue.hasSuffix("osc-fr1") }
        var world = FleetModel(policy: policy, fleet: fleet, packages: [Self.bind])
        world.settle()
        world.agentFinishes(Self.host("dns1.osc-fr1"), outcome: .succeeded)
        world.settle()
        world.advance(minutes: 2)
        world.settle()
        #expect(world.rollout.waves[0].state == .passed)
        // The rest wave would start dns2 now; the canary's bind dies first.
        world.setHealth(Self.host("dns1.osc-fr1"), healthy: false)
        let actions = Reconciler.decide(world.snapshot, nowMs: world.nowMs)
        #expect(!actions.contains { if case .startAssignment = $0 { true } else { false } }, "\(actions)")
        world.settle()
        #expect(world.rollout.state == .halted)
        #expect(world.assignment(of: "dns2.osc-fr1")?.state == .cancelled)
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func aHostUnhealthyAfterItsUpdateUnderOnFailureRevertHaltsAndRevertsEveryUnhealthyUpdatedHostInOneAction() {
        var policy = Self.policy
        policy.onFailure = .revert
        var world = FleetModel(policy: policy, fleet: Self.fleet, packages: [Self.bind])
        world.settle()
        world.agentFinishes(Self.host("test1"), outcome: .succeeded)
        world.settle()
        #expect(world.rollout.waves[0].state == .soaking)
        world.setHealth(Self.host("test1"), healthy: false)

        let actions = Reconciler.decide(world.snapshot, nowMs: world.nowMs)

        #expect(actions == [.haltAndRevert(rollout: 1, wave: 0, reason: "wave test: host test1 unhealthy during soak", hosts: [Self.host("test1")])], "\(actions)")
        // The same world under the default (on_failure: halt) only halts.
        world.policy.onFailure = .halt
        world.rollout.policy.onFailure = .halt
        #expect(Reconciler.decide(world.snapshot, nowMs: world.nowMs) == [.halt(rollout: 1, wave: 0, reason: "wave test: host test1 unhealthy during soak")])
    }

    @Test func aRevertRolloutStartsItsUnhealthyHostWhileAnOrdinaryRolloutWaitsForHealth() {
        let policy = Policy(name: "p", waves: [WaveSpec(name: "revert", selector: [:], strategy: .all)])
        var world = FleetModel(policy: policy, fleet: Array(Self.fleet.prefix(2)), packages: [Self.bind])
        world.setHealth(Self.host("dns1.osc-fr1"), healthy: false)
        world.rollout.waves[0].state = .running
        let starts = { (world: FleetModel) in
            Reconciler.decide(world.snapshot, nowMs: world.nowMs).compactMap { action -> String? in
                if case .startAssignment(_, _, let host) = action { host.rawValue } else { nil }
            }
        }
        #expect(starts(world) == ["test1"], "an ordinary rollout does not touch an unhealthy host")
        world.rollout.revertOf = 7
        #expect(starts(world) == ["dns1.osc-fr1", "test1"], "a revert is what mends it")
    }
}
