import SluiceCore
import Testing

@Suite("The unattended-upgrades counterfactual model")
struct UnattendedUpgradesModelTests {
    typealias Host = UnattendedUpgradesModel.Host

    static func fleet(regions: [String], resolversPerRegion: Int, apps: Int = 10) -> [Host] {
        var hosts: [Host] = [Host(id: "test1", region: "lab", role: "dns-resolver", hasPackage: true, configUsesDroppedOption: false)]
        for region in regions {
            for n in 1...resolversPerRegion {
                hosts.append(Host(id: "dns\(n).\(region)", region: region, role: "dns-resolver", hasPackage: true, configUsesDroppedOption: true))
            }
            for n in 0..<apps {
                hosts.append(Host(id: "app\(n).\(region)", region: region, role: "app", hasPackage: false, configUsesDroppedOption: false))
            }
        }
        return hosts
    }

    @Test func theSameSeedGivesTheSameFiguresAndAnotherSeedOtherTimes() {
        let fleet = Self.fleet(regions: ["osc-fr1", "osc-secnum-fr1"], resolversPerRegion: 2)
        let a = UnattendedUpgradesModel.run(fleet, .init(seed: 7))
        #expect(a == UnattendedUpgradesModel.run(fleet, .init(seed: 7)))
        // Across seeds the breakage times (and so the minutes down) differ.
        let others = (1...20).map { UnattendedUpgradesModel.run(fleet, .init(seed: UInt64($0))) }
        #expect(Set(others.map(\.resolverSecondsDown)).count > 5)
        #expect(Set(others.map { $0.regionsLost.count }).count > 1, "some seeds lose a region, some do not")
        // Every resolver with the old config and its timer before the fix is broken; the test host is not.
        #expect(!a.hostsBroken.contains("test1"))
        #expect(a.firstFailureToHaltSeconds == nil, "unattended-upgrades never halts")
        #expect(a.firstFailureToDetectionSeconds == 20 * 60)
        #expect(a.hostsChanged == 5, "every host with bind9 upgraded: 4 resolvers and the test host")
    }

    @Test func aFleetWithOneResolverPerRegionLosesEveryRegion() {
        let regions = ["r1", "r2", "r3", "r4"]
        for seed in [UInt64(1), 7, 42] {
            let figures = UnattendedUpgradesModel.run(Self.fleet(regions: regions, resolversPerRegion: 1), .init(seed: seed))
            #expect(figures.regionsLost == regions)
            #expect(figures.hostsBroken.count == 4)
            // Each region is down from its only resolver's failure to its fix: 40 minutes each.
            #expect(figures.resolverSecondsDown == 4 * 40 * 60)
            #expect(figures.regionSecondsWithoutDNS == 4 * 40 * 60)
        }
    }

    @Test func minutesDownAreComputedFromTheDrawnTimesAndTheFixTime() {
        let fleet = Self.fleet(regions: ["osc-fr1"], resolversPerRegion: 2, apps: 0)
        for seed in UInt64(1)...30 {
            let p = UnattendedUpgradesModel.Parameters(seed: seed)
            let figures = UnattendedUpgradesModel.run(fleet, p)
            let first = figures.breakages.map(\.brokenAt).min()!
            #expect(figures.breakages.allSatisfy { $0.fixedAt == first + p.detectionPlusFixSeconds })
            #expect(figures.resolverSecondsDown == figures.breakages.reduce(0) { $0 + $1.fixedAt - $1.brokenAt })
            #expect(figures.breakages.allSatisfy { $0.brokenAt >= p.timerSeconds && $0.brokenAt <= p.timerSeconds + p.randomizedDelaySeconds })
            // Lost exactly when the second resolver's timer fired before the fix.
            #expect((figures.regionsLost == ["osc-fr1"]) == (figures.breakages.count == 2))
        }
        // A quicker fix means fewer minutes down.
        let slow = UnattendedUpgradesModel.run(fleet, .init(seed: 3, detectionPlusFixSeconds: 3600))
        let fast = UnattendedUpgradesModel.run(fleet, .init(seed: 3, detectionPlusFixSeconds: 60))
        #expect(fast.resolverSecondsDown < slow.resolverSecondsDown)
        // Without the dropped option in any config, nothing breaks.
        let clean = fleet.map { var h = $0; h.configUsesDroppedOption = false; return h }
        let none = UnattendedUpgradesModel.run(clean, .init(seed: 3))
        #expect(none.hostsBroken.isEmpty && none.regionsLost.isEmpty && none.resolverSecondsDown == 0 && none.firstFailureToDetectionSeconds == nil)
    }

    @Test func sluiceFiguresComeFromTheFinalStates() {
        let hosts: [Comparison.SluiceHost] = [
            .init(host: "test1", region: "lab", role: "dns-resolver", state: .succeeded, downSeconds: 0),
            .init(host: "dns1.osc-fr1", region: "osc-fr1", role: "dns-resolver", state: .rolledBack, downSeconds: 0),
            .init(host: "dns2.osc-fr1", region: "osc-fr1", role: "dns-resolver", state: .cancelled, downSeconds: 0),
        ]
        let figures = Comparison.sluice(hosts, fleetResolvers: ["osc-fr1": 2], firstFailureToHaltSeconds: 1, anyFailure: true)
        #expect(figures.regionsLost.isEmpty && figures.resolverSecondsDown == 0 && figures.hostsBroken.isEmpty)
        #expect(figures.hostsChanged == 2 && figures.firstFailureToHaltSeconds == 1)
        let failed = hosts.map { var h = $0; if h.region == "osc-fr1" { h.state = .failed; h.downSeconds = 60 }; return h }
        let bad = Comparison.sluice(failed, fleetResolvers: ["osc-fr1": 2], firstFailureToHaltSeconds: nil, anyFailure: true)
        #expect(bad.regionsLost == ["osc-fr1"] && bad.resolverSecondsDown == 120 && bad.hostsBroken.count == 2)
    }
}
