import PropertyBased
import SluiceCore
import Testing

/// Random fleets and random histories: after every step, the design's invariants hold.
@Suite("Reconciler: invariants under random histories")
struct ReconcilerPropertyTests {
    static let policy = Policy(
        name: "security-updates",
        groups: GroupRules(labels: ["role", "region"], maxUnavailable: 1),
        waves: [
            WaveSpec(name: "test", selector: ["environment": ["test"]], strategy: .all, soakSeconds: 3600),
            WaveSpec(name: "canary", selector: ["environment": ["production"]], strategy: .onePerGroup, soakSeconds: 1800, approval: .manual),
            WaveSpec(name: "rest", selector: ["environment": ["production"]], strategy: .batches(size: .percent(30)), soakSeconds: 600, failureBudget: 1),
        ])

    /// A fleet from a few numbers: regions, roles, members per group, test hosts.
    static func fleet(regions: Int, roles: Int, members: Int, testHosts: Int) -> [(HostID, Labels)] {
        var out: [(HostID, Labels)] = []
        for t in 0..<testHosts {
            out.append((try! HostID(parsing: "test\(t)"), try! Labels(validating: ["environment": "test", "role": "r0", "region": "lab"])))
        }
        for region in 0..<regions {
            for role in 0..<roles {
                for m in 0..<members {
                    out.append((
                        try! HostID(parsing: "h\(region)-\(role)-\(m)"),
                        try! Labels(validating: ["environment": "production", "role": "r\(role)", "region": "g\(region)"])
                    ))
                }
            }
        }
        return out
    }

    @Test func invariantsHoldAfterEveryStep() async {
        await propertyCheck(
            count: 300,
            input: Gen.int(in: 1...3), Gen.int(in: 1...3), Gen.int(in: 1...4), Gen.int(in: 0...2), Gen.int(in: 0...999).array(of: 10...120)
        ) { regions, roles, members, testHosts, events in
            var world = FleetModel(
                policy: Self.policy, fleet: Self.fleet(regions: regions, roles: roles, members: members, testHosts: testHosts),
                packages: [try! PackagePin(parsing: "bind9=1:9.18.28-1~deb12u2")])
            world.settle()
            for code in events {
                let ids = world.hosts.keys.sorted()
                let pick = ids[code % ids.count]
                switch code % 10 {
                case 0, 1, 2:
                    // An in-flight host finishes: mostly success, sometimes rollback or failure.
                    let outcome: AssignmentState = code % 7 == 0 ? .rolledBack : (code % 11 == 0 ? .failed : .succeeded)
                    if let a = world.assignments.first(where: { $0.state.isInFlight && ($0.hostID == pick || code % 3 == 0) }) {
                        world.agentFinishes(a.hostID, outcome: outcome)
                    }
                case 3: world.advance(minutes: 1 + code % 90)
                case 4: world.silent.insert(pick)
                case 5: world.silent.remove(pick)
                case 6: world.setHealth(pick, healthy: code % 4 != 0)
                case 7: code % 2 == 0 ? world.pause() : world.resume()
                case 8: world.approve(wave: 1 + code % 2)
                default: world.heartbeat()
                }
                world.reconcile()
                if !world.violations.isEmpty { break }
            }
            #expect(world.violations.isEmpty, "\(world.violations)\n\(world.log.suffix(15).joined(separator: "\n"))")
        }
    }
}
