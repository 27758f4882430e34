import SluiceCore
import Testing

/// The policy's `dependencies` rule on grouped simulation answers: what is refused, what is
/// included, and how the refusal names packages and hosts.
@Suite("Dependency closure")
struct DependencyClosureTests {
    static func host(_ name: String) -> HostID { try! HostID(parsing: name) }
    static func change(_ name: String, _ from: String?, _ to: String) -> PackageChange {
        PackageChange(name: try! PackageName(parsing: name), from: from.map { try! DebianVersion(parsing: $0) }, to: try! DebianVersion(parsing: to))
    }
    static let bind9 = change("bind9", "1:9.18.24-1", "1:9.18.28-1~deb12u2")

    static func simulation(_ answers: [String: SimulationReport]) -> PlanSimulation {
        let pins = Dictionary(uniqueKeysWithValues: answers.keys.map { (host($0), [bind9.pin]) })
        return PlanSimulation.group(
            answers: Dictionary(uniqueKeysWithValues: answers.map { (host($0.key), $0.value) }), pins: pins, unknown: [])
    }

    @Test func aNewPackageAptWouldInstallIsShownButNeverOutsideTheSet() {
        let simulation = Self.simulation(["a": SimulationReport(installs: [Self.bind9, Self.change("libnew1", nil, "1.0-1")])])
        #expect(simulation.groups.first?.outside == [])
        #expect(DependencyClosure.decide(simulation, rule: .refuse) { _, _ in false } == .accept)
    }

    @Test func aptRefusingTheSetOrARemovalRefusesWhateverTheRule() {
        let simulation = Self.simulation([
            "a": SimulationReport(error: "apt-get -s install: E: Unable to correct problems, you have held broken packages."),
            "b": SimulationReport(installs: [Self.bind9], removals: [PackageRemoval(name: try! PackageName(parsing: "bind9-utils"), version: nil)]),
        ])
        guard case .refuse(let why) = DependencyClosure.decide(simulation, rule: .include, qualifies: { _, _ in true }) else {
            Issue.record("not refused")
            return
        }
        #expect(why == "apt refuses the set on a: apt-get -s install: E: Unable to correct problems, you have held broken packages.; the set would remove bind9-utils on b")
    }

    @Test func hostsThatNeedDifferentVersionsOfOneDependencyRefuseInsteadOfGuessing() {
        let simulation = Self.simulation([
            "a": SimulationReport(installs: [Self.bind9, Self.change("libc6", "2.36-9", "2.36-9+deb12u4")]),
            "b": SimulationReport(installs: [Self.bind9, Self.change("libc6", "2.36-9", "2.36-9+deb12u5")]),
        ])
        guard case .refuse(let why) = DependencyClosure.decide(simulation, rule: .include, qualifies: { _, _ in true }) else {
            Issue.record("not refused")
            return
        }
        #expect(why == "hosts need different versions of libc6 (2.36-9+deb12u4, 2.36-9+deb12u5): roll them out separately")
    }

    @Test func aRefusalNamesAtMostFiveHostsAndCountsTheRest() {
        let answer = SimulationReport(installs: [Self.bind9, Self.change("libc6", "2.36-9", "2.36-9+deb12u4")])
        let simulation = Self.simulation(Dictionary(uniqueKeysWithValues: (1...7).map { ("h\($0)", answer) }))
        #expect(
            DependencyClosure.decide(simulation, rule: .refuse) { _, _ in true }
                == .refuse("the set would also upgrade libc6 2.36-9 -> 2.36-9+deb12u4 on h1, h2, h3, h4, h5 and 2 more: the policy refuses dependencies outside the set (dependencies: refuse)"))
    }
}
