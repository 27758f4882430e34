import Foundation
import SluiceCore
import Testing

/// The unavailability rule, event by event, on small made-up histories.
@Suite("Audit: the postmortem's unavailability rule")
struct AuditPostmortemRuleTests {
    static let t0: Int64 = 1_721_800_000_000

    /// A history builder: events at `t0 + seconds`, in order.
    struct Script {
        var events: [AuditEvent] = []
        mutating func add(_ s: Int64, _ kind: String, host: String? = nil, rollout: Int64? = 1, group: String? = nil, _ details: String = "{}") {
            events.append(
                AuditEvent(
                    seq: Int64(events.count + 1), atMs: t0 + s * 1000, actor: host.map { "agent:\($0)" } ?? "controller", kind: kind,
                    rolloutID: rollout, hostID: host, groupKey: group, details: details))
        }
        mutating func agent(_ s: Int64, _ step: String, _ host: String, outcome: String? = nil) {
            add(s, "agent.\(step)", host: host, group: "g", outcome.map { #"{"outcome":"\#($0)"}"# } ?? "{}")
        }
        mutating func health(_ s: Int64, _ healthy: Bool, _ host: String) {
            add(s, healthy ? "host.healthy" : "host.unhealthy", host: host, rollout: nil)
        }
        func postmortem(asOf: Int64 = 10_000, groups: [String: [String]] = ["g": ["a", "b"]]) -> Postmortem {
            Postmortem(history: RolloutHistory(rolloutID: 1, events: events, groups: groups, asOfMs: t0 + asOf * 1000))
        }
    }

    @Test func aRollbackBeforeTheRestartCostsNothingAndARestartCostsUntilHealthy() {
        var s = Script()
        s.add(0, "rollout.created")
        s.agent(10, "started", "a")
        s.agent(20, "rolled-back", "a")
        s.agent(21, "finished", "a", outcome: "rolled-back-before-restart")
        s.agent(30, "started", "b")
        s.agent(40, "restarted", "b")
        s.agent(45, "healthy", "b")
        s.agent(46, "finished", "b", outcome: "succeeded")
        s.add(50, "rollout.completed")
        let p = s.postmortem()
        #expect(p.unavailability.map { [$0.fromMs - Self.t0, $0.toMs - Self.t0] } == [[40_000, 45_000]])
        #expect(p.impacts.first.map { [$0.degradedMs, $0.downMs, Int64($0.mostUnavailable)] } == [5000, 0, 1])
        #expect(p.failures.map(\.outcome) == ["rolled-back-before-restart"])
        // The rollback is the first failure report; the host kept serving, so it began then.
        #expect(p.firstFailureAtMs == Self.t0 + 20_000 && p.detectedAtMs == Self.t0 + 20_000)
        #expect(p.haltedAtMs == nil && p.state == "completed")
    }

    @Test func aHostSilentDuringItsSoakIsItsOwnCauseOfTheHalt() {
        var s = Script()
        s.add(0, "rollout.created")
        s.agent(10, "started", "a")
        s.agent(20, "finished", "a", outcome: "succeeded")
        s.add(25, "wave.soaking")
        s.add(60, "host.silent", host: "a", group: "g", #"{"silentForMs":"31000","effect":"promotion blocked"}"#)
        s.add(60, "rollout.halted", #"{"reason":"wave w: host a silent during soak (no heartbeat for 31 s)"}"#)
        let p = s.postmortem()
        #expect(p.failures.map { "\($0.host) \($0.outcome) \($0.group ?? "-")" } == ["a silent g"])
        #expect(p.failures.first?.detail == "no heartbeat during its wave's soak: wave w: host a silent during soak (no heartbeat for 31 s)")
        #expect(p.detectedAtMs == Self.t0 + 60_000 && p.haltedAtMs == Self.t0 + 60_000)
        #expect(p.markdown(zone: TimeZone(identifier: "UTC")!, slo: 0.999).contains("a (silent)"))
    }

    @Test func aFailedHostStaysDownUntilItReportsHealthyEvenAfterTheRolloutEnds() {
        var s = Script()
        s.add(0, "rollout.created")
        s.agent(10, "restarted", "a")
        s.agent(70, "finished", "a", outcome: "failed")
        s.add(71, "rollout.halted", #"{"reason":"wave w: 1 host(s) failed (a), budget 0"}"#)
        s.health(100, false, "b")  // inside the damage window: counts
        s.health(200, true, "b")
        s.health(600, true, "a")
        s.health(700, false, "b")  // after the window closed at 600: not this rollout's
        let p = s.postmortem()
        #expect(p.windowEndMs == Self.t0 + 600_000)
        #expect(p.unavailability.map(\.host) == ["a", "b"])
        let g = p.impacts[0]
        #expect([g.degradedMs, g.downMs] == [(90 + 400) * 1000, 100_000])
        #expect(g.mostUnavailable == 2 && !g.ongoing)
        #expect(p.firstFailureAtMs == Self.t0 + 10_000, "the failure began at the restart")
        #expect(p.detectedAtMs == Self.t0 + 70_000)
        #expect(p.haltedAtMs == Self.t0 + 71_000)
    }

    @Test func touchingIntervalsNeverCountAsOverlapAndOpenOnesAreOngoing() {
        var s = Script()
        s.add(0, "rollout.created")
        s.agent(10, "restarted", "a")
        s.agent(20, "healthy", "a")
        s.agent(20, "restarted", "b")  // b goes down the moment a comes back
        s.agent(30, "finished", "b", outcome: "failed")
        let p = s.postmortem(asOf: 90)
        let g = p.impacts[0]
        #expect(g.mostUnavailable == 1, "a back and b down at the same instant is not 2 down")
        #expect([g.degradedMs, g.downMs] == [80_000, 0])
        #expect(g.ongoing && p.state == "running")
        let markdown = p.markdown(zone: TimeZone(identifier: "UTC")!, slo: 99.9)
        #expect(markdown.contains("| g | 2 (a, b) | 1 of 2 | 1 min 20 s (still unavailable) |"))
        #expect(markdown.contains("it has not ended."))
    }

    @Test func theErrorBudgetIsTheSLOsShareOfThirtyDays() {
        #expect(Postmortem.ErrorBudget(slo: 99.9).budgetMs == 2_592_000)  // 43.2 minutes
        #expect(Postmortem.ErrorBudget(slo: 99.99).budgetMs == 259_200)
        #expect(Postmortem.ErrorBudget(slo: 99.9).share(300_000) == "11.6 %")
        #expect(Postmortem.ErrorBudget(slo: 99.9).share(2_592_000 * 2) == "200.0 %")
    }
}
