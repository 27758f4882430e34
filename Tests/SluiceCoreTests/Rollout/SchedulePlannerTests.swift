import Foundation
import SluiceCore
import Testing

@Suite("Automatic mode: when the controller creates rollouts itself")
struct SchedulePlannerTests {
    /// 2026-03-28 12:00 UTC: the day before Europe/Paris moves to summer time.
    let saturdayNoon: Int64 = 1_774_699_200_000

    @Test func aDailyScheduleRunsOncePerSlotAndOnlyWhenSomethingQualifies() {
        let schedule = Schedule.daily(minuteOfDay: 3 * 60, timeZone: "Europe/Paris")
        var state = ScheduleState()
        var (create, next) = SchedulePlanner.decide(schedule, state: state, qualifyingDigest: "bind9=1", hasOpenRollout: false, nowMs: saturdayNoon)
        #expect(create, "today's 03:00 slot has passed and never ran")
        state = next
        (create, next) = SchedulePlanner.decide(schedule, state: state, qualifyingDigest: "bind9=1", hasOpenRollout: false, nowMs: saturdayNoon + 3_600_000)
        #expect(!create, "the same slot runs once")
        // Sunday 03:00 Paris is 01:00 UTC (summer time began at 02:00 local that night).
        let sundayBefore: Int64 = saturdayNoon + 12 * 3_600_000 + 59 * 60_000  // 00:59 UTC
        (create, _) = SchedulePlanner.decide(schedule, state: state, qualifyingDigest: "bind9=1", hasOpenRollout: false, nowMs: sundayBefore)
        #expect(!create)
        (create, next) = SchedulePlanner.decide(schedule, state: state, qualifyingDigest: nil, hasOpenRollout: false, nowMs: sundayBefore + 60_000)
        #expect(!create, "nothing qualifies: nothing to create, and the slot is spent")
        #expect(next.lastRunAtMs == sundayBefore + 60_000)
    }

    @Test func theDailySlotFollowsDaylightSaving() {
        // 03:00 in Paris is 02:00 UTC in winter and 01:00 UTC in summer.
        let winter = SchedulePlanner.lastSlot(minuteOfDay: 180, timeZone: "Europe/Paris", nowMs: saturdayNoon)
        let summer = SchedulePlanner.lastSlot(minuteOfDay: 180, timeZone: "Europe/Paris", nowMs: saturdayNoon + 86_400_000)
        #expect(winter == 1_774_663_200_000)  // 2026-03-28T02:00:00Z
        #expect(summer == 1_774_746_000_000)  // 2026-03-29T01:00:00Z
    }

    @Test func newCandidatesWaitForTheDebounceAndAnOpenRolloutAndRunOncePerSet() {
        let schedule = Schedule.onNewCandidates(debounceSeconds: 600)
        var state = ScheduleState()
        var create: Bool
        (create, state) = SchedulePlanner.decide(schedule, state: state, qualifyingDigest: "a", hasOpenRollout: false, nowMs: 0)
        #expect(!create)
        (create, state) = SchedulePlanner.decide(schedule, state: state, qualifyingDigest: "a", hasOpenRollout: false, nowMs: 599_000)
        #expect(!create, "still inside the debounce")
        (create, state) = SchedulePlanner.decide(schedule, state: state, qualifyingDigest: "a b", hasOpenRollout: false, nowMs: 600_000)
        #expect(!create, "the set changed: the debounce starts again")
        (create, state) = SchedulePlanner.decide(schedule, state: state, qualifyingDigest: "a b", hasOpenRollout: true, nowMs: 1_300_000)
        #expect(!create, "one open rollout per policy")
        (create, state) = SchedulePlanner.decide(schedule, state: state, qualifyingDigest: "a b", hasOpenRollout: false, nowMs: 1_300_000)
        #expect(create)
        (create, state) = SchedulePlanner.decide(schedule, state: state, qualifyingDigest: "a b", hasOpenRollout: false, nowMs: 9_000_000)
        #expect(!create, "the same set is rolled out once")
    }
}
