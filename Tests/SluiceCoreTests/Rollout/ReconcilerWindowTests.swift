import Foundation
import SluiceCore
import Testing

/// Maintenance windows and blackout dates through the reconciler, on an injected clock: when a
/// wave may start hosts, in its own time zone, across a daylight-saving change.
@Suite("Reconciler: windows and blackouts")
struct ReconcilerWindowTests {
    static func host(_ id: String) -> HostID { try! HostID(parsing: id) }
    static let bind = try! PackagePin(parsing: "bind9=1:9.18.28-1~deb12u2")
    static let fleet: [(HostID, Labels)] = (1...3).map { (host("dns\($0)"), try! Labels(validating: ["role": "dns", "region": "r\($0)"])) }

    /// Milliseconds since the epoch of an ISO 8601 instant.
    static func at(_ text: String) -> Int64 {
        Int64(ISO8601DateFormatter().date(from: text)!.timeIntervalSince1970 * 1000)
    }

    /// Advances minute by minute until a host of the rollout starts, finishing every started
    /// host at once; returns the minute of the first start after `from`, or nil within `limit`.
    static func firstStart(_ world: inout FleetModel, from: Int64, limitMinutes: Int) -> Int64? {
        world.nowMs = from
        world.heartbeat()
        for _ in 0..<limitMinutes {
            let before = world.assignments.filter { $0.state != .pending }.count
            world.settle()
            if world.assignments.filter({ $0.state != .pending }).count > before { return world.nowMs }
            world.advance(minutes: 1)
        }
        return nil
    }

    @Test func aWaveOutsideItsWindowWaitsAndResumesAtTheWindowsStartInItsTimeZoneAcrossADaylightSavingChange() {
        // Mondays 08:00-10:00 in Paris: 07:00 UTC in winter, 06:00 UTC once summer time began
        // (Sunday 28 March 2027, 01:00 UTC). One host at a time.
        let window = MaintenanceWindow(weekdays: [2], startMinute: 8 * 60, endMinute: 10 * 60, timeZone: "Europe/Paris")
        let policy = Policy(name: "night", waves: [WaveSpec(name: "all", selector: [:], strategy: .batches(size: .hosts(1)), windows: [window])])
        var world = FleetModel(policy: policy, fleet: Self.fleet, packages: [Self.bind])

        // Created on Monday 22 March 2027 at 10:30 Paris (09:30 UTC, winter): past the window.
        world.nowMs = Self.at("2027-03-22T09:30:00Z")
        world.heartbeat()
        world.settle()
        let waiting = RolloutDetail.waitingOn(rollout: world.rollout, snapshot: world.snapshot, nowMs: world.nowMs)
        #expect(waiting == ["wave all waits for its maintenance window"], "\(waiting)")
        let first = Self.firstStart(&world, from: world.nowMs, limitMinutes: 8 * 24 * 60)
        #expect(world.violations.isEmpty, "\(world.violations)")
        // The next Monday is after the change: 08:00 Paris is 06:00 UTC, not 07:00.
        #expect(first == Self.at("2027-03-29T06:00:00Z"), "first start at \(first.map { Date(timeIntervalSince1970: Double($0) / 1000) } as Any)")

        // The first host ends inside the window; the next one starts at once.
        world.advance(minutes: 30)
        world.agentFinishes(world.assignments.first { $0.state == .started }!.hostID, outcome: .succeeded)
        world.settle()
        #expect(world.assignments.filter { $0.state == .started }.count == 1)
        // The second ends after 10:00 Paris (08:00 UTC): nothing new starts until next Monday 06:00 UTC.
        world.nowMs = Self.at("2027-03-29T08:00:00Z")
        world.heartbeat()
        world.agentFinishes(world.assignments.first { $0.state == .started }!.hostID, outcome: .succeeded)
        world.settle()
        #expect(world.assignments.filter { $0.state == .started }.isEmpty, "a host started outside the window")
        let outside = RolloutDetail.waitingOn(rollout: world.rollout, snapshot: world.snapshot, nowMs: world.nowMs)
        #expect(outside.contains("wave all is outside its maintenance window: no new host starts"), "\(outside)")
        let resumed = Self.firstStart(&world, from: world.nowMs, limitMinutes: 8 * 24 * 60)
        #expect(resumed == Self.at("2027-04-05T06:00:00Z"))
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func inAutumnTheSameWindowOpensAnHourLaterInUTC() {
        // Summer time ends on Sunday 31 October 2027 at 01:00 UTC: 08:00 Paris is 07:00 UTC again.
        let window = MaintenanceWindow(weekdays: [2], startMinute: 8 * 60, endMinute: 10 * 60, timeZone: "Europe/Paris")
        let policy = Policy(name: "night", waves: [WaveSpec(name: "all", selector: [:], windows: [window])])
        var world = FleetModel(policy: policy, fleet: Self.fleet, packages: [Self.bind])
        let first = Self.firstStart(&world, from: Self.at("2027-10-25T09:00:00Z"), limitMinutes: 8 * 24 * 60)
        #expect(first == Self.at("2027-11-01T07:00:00Z"))
        #expect(world.violations.isEmpty, "\(world.violations)")
    }

    @Test func aBlackoutDateHoldsEveryWaveThatNamesItForThatWholeDayInTheWindowsTimeZone() {
        // Waves run one after another; "first" does not name the blackout, "second" does, in
        // Paris time (its window is any time of any day).
        let anyTime = MaintenanceWindow(weekdays: Set(1...7), startMinute: 0, endMinute: 24 * 60, timeZone: "Europe/Paris")
        let policy = Policy(
            name: "holidays",
            waves: [
                WaveSpec(name: "first", selector: ["region": ["r1"]]),
                WaveSpec(name: "second", selector: [:], windows: [anyTime], blackoutDates: ["2027-12-24"]),
            ])
        var world = FleetModel(policy: policy, fleet: Self.fleet, packages: [Self.bind])
        // Created on 24 December at 09:00 Paris (08:00 UTC): "first" is not held.
        let first = Self.firstStart(&world, from: Self.at("2027-12-24T08:00:00Z"), limitMinutes: 5)
        #expect(first == Self.at("2027-12-24T08:00:00Z"))
        world.agentFinishes(Self.host("dns1"), outcome: .succeeded)
        world.settle()
        #expect(world.rollout.waves[0].state == .passed || world.rollout.waves[0].state == .soaking)
        // "second" waits through the rest of the 24th in Paris: until 23:00 UTC.
        let second = Self.firstStart(&world, from: world.nowMs, limitMinutes: 24 * 60)
        #expect(second == Self.at("2027-12-24T23:00:00Z"), "second started at \(second.map { Date(timeIntervalSince1970: Double($0) / 1000) } as Any)")
        #expect(world.violations.isEmpty, "\(world.violations)")
    }
}
