import SluiceTestSupport
import Foundation
import SluiceCore
import Testing

@testable import SluiceStore

/// The postmortem of the scripted incident: every figure against the script, exactly.
@Suite("Audit: the bind9 incident's postmortem")
struct AuditIncidentReplayTests {
    static let paris = TimeZone(identifier: "Europe/Paris")!

    static func replay() throws -> (Postmortem, RolloutHistory, SluiceDatabase, TemporaryDirectory) {
        let dir = try TemporaryDirectory()
        let database = try SluiceDatabase.open(path: dir.file("s.sqlite"), nowMs: 0)
        var script = AuditIncidentScript(database: database)
        let id = try script.run()
        let history = try database.rolloutHistory(id)
        return (Postmortem(history: history), history, database, dir)
    }

    @Test func theTimelineIsTheScriptedHistoryInCEST() throws {
        let (postmortem, _, _, dir) = try Self.replay()
        defer { dir.remove() }
        let lines = postmortem.timeline.map { AuditTime.short($0.atMs, in: Self.paris) + " " + $0.text }
        #expect(
            lines == [
                "Jul. 24 06:00:00 operator:alice created rollout 1 (policy security-updates): bind9=1:9.18.28-1~deb12u2; waves test: 1, canary: 2, rest: 2",
                "Jul. 24 06:00:00 rollout 1: wave test started",
                "Jul. 24 06:00:00 controller told test1 (dns-resolver@lab) to apply rollout 1, wave test",
                "Jul. 24 06:00:30 test1 restarted: restarted named",
                "Jul. 24 06:00:30 dns-resolver@lab fully down: 1 of 1 member unavailable",
                "Jul. 24 06:00:40 dns-resolver@lab back to full strength: all 1 member available",
                "Jul. 24 06:00:41 test1 finished rollout 1: succeeded: installed bind9=1:9.18.28-1~deb12u2; healthy",
                "Jul. 24 06:00:41 rollout 1: wave test finished applying and is soaking",
                "Jul. 24 07:00:41 rollout 1: wave test passed",
                "Jul. 24 08:10:00 operator:bob approved wave canary of rollout 1: bind9 DSA reviewed",
                "Jul. 24 08:15:00 operator:alice paused rollout 1: checking the test resolver's dashboards",
                "Jul. 24 08:17:00 operator:alice resumed rollout 1: dashboards fine",
                "Jul. 24 08:20:00 rollout 1: wave canary started",
                "Jul. 24 08:20:00 controller told dns1.osc-fr1 (dns-resolver@osc-fr1) to apply rollout 1, wave canary",
                "Jul. 24 08:20:30 dns1.osc-fr1 restarted: restarted named",
                "Jul. 24 08:20:30 dns-resolver@osc-fr1 degraded: 1 of 2 members unavailable",
                "Jul. 24 08:21:20 dns1.osc-fr1 rolled back: reinstalled bind9=1:9.18.24-1 under the restart hold",
                "Jul. 24 08:21:30 dns1.osc-fr1 unhealthy: health check failed after restart: unit named.service is failed; rolled back but still unhealthy",
                "Jul. 24 08:21:30 dns1.osc-fr1 finished rollout 1: failed: health check failed after restart: unit named.service is failed; rolled back but still unhealthy",
                "Jul. 24 08:21:31 controller halted rollout 1: wave canary: 1 host(s) failed (dns1.osc-fr1), budget 0",
                "Jul. 24 08:40:00 dns2.osc-fr1 unhealthy: dns 127.0.0.1 example.org: timeout (overloaded)",
                "Jul. 24 08:40:00 dns-resolver@osc-fr1 fully down: 2 of 2 members unavailable",
                "Jul. 24 08:45:00 dns2.osc-fr1 healthy again: 2 check(s) passed",
                "Jul. 24 08:45:00 dns-resolver@osc-fr1 degraded: 1 of 2 members unavailable",
                "Jul. 24 09:01:00 dns1.osc-fr1 healthy again: 2 check(s) passed",
                "Jul. 24 09:01:00 dns-resolver@osc-fr1 back to full strength: all 2 members available",
            ])
    }

    @Test func theImpactTableHaltAndDetectionMatchTheScript() throws {
        let (postmortem, history, _, dir) = try Self.replay()
        defer { dir.remove() }
        let cest = AuditIncidentScript.cest
        #expect(history.groups == [
            "dns-resolver@lab": ["test1"], "dns-resolver@osc-fr1": ["dns1.osc-fr1", "dns2.osc-fr1"],
            "dns-resolver@osc-secnum-fr1": ["dns1.osc-secnum-fr1", "dns2.osc-secnum-fr1"],
        ])
        let impact = Dictionary(uniqueKeysWithValues: postmortem.impacts.map { ($0.group, $0) })
        #expect(impact["dns-resolver@lab"].map { [$0.members.count, $0.mostUnavailable] } == [1, 1])
        #expect(impact["dns-resolver@lab"].map { [$0.degradedMs, $0.downMs] } == [0, 10_000])
        #expect(impact["dns-resolver@osc-fr1"].map { [$0.members.count, $0.mostUnavailable] } == [2, 2])
        // 08:20:30-08:40:00 and 08:45:00-09:01:00 degraded; 08:40:00-08:45:00 fully down.
        #expect(impact["dns-resolver@osc-fr1"].map { [$0.degradedMs, $0.downMs] } == [(19 * 60 + 30 + 16 * 60) * 1000, 5 * 60_000])
        #expect(impact["dns-resolver@osc-secnum-fr1"].map { [$0.mostUnavailable, Int($0.degradedMs), Int($0.downMs)] } == [0, 0, 0])
        #expect(postmortem.state == "halted")
        #expect(postmortem.haltedAtMs == cest("08:21:31"))
        #expect(postmortem.firstFailureAtMs == cest("08:20:30"))
        #expect(postmortem.detectedAtMs == cest("08:21:20"))
        #expect(postmortem.windowEndMs == cest("09:01:00"))
        #expect(postmortem.failures.map(\.host) == ["dns1.osc-fr1"])
        #expect(postmortem.failures.first?.output == AuditIncidentScript.failureOutput)
        #expect(postmortem.decisions.map { "\($0.actor) \($0.action)" } == [
            "operator:alice created the rollout", "operator:bob approved wave canary", "operator:alice paused", "operator:alice resumed",
        ])
        #expect(postmortem.decisions.map(\.atMs) == ["06:00:00", "08:10:00", "08:15:00", "08:17:00"].map(cest))
    }

    @Test func theMarkdownStatesTheFiguresAndTheBudget() throws {
        let (postmortem, _, _, dir) = try Self.replay()
        defer { dir.remove() }
        let markdown = postmortem.markdown(zone: Self.paris, slo: 99.9)
        for expected in [
            "# Postmortem: rollout 1 (security-updates), bind9=1:9.18.28-1~deb12u2",
            "Generated from the audit log as of 2024-07-24T10:05:00.000+02:00.",
            "All times are Europe/Paris (UTC+2, summer time).",
            "| dns-resolver@lab | 1 (test1) | 1 of 1 | 0 | 10 s |",
            "| dns-resolver@osc-fr1 | 2 (dns1.osc-fr1, dns2.osc-fr1) | 2 of 2 | 35 min 30 s | 5 min |",
            "| dns-resolver@osc-secnum-fr1 | 2 (dns1.osc-secnum-fr1, dns2.osc-secnum-fr1) | 0 of 2 | 0 | 0 |",
            "### dns1.osc-fr1: failed, Jul. 24 08:21:30",
            "```\n" + AuditIncidentScript.failureOutput + "\n```",
            "| First failure began | Jul. 24 08:20:30 | |",
            "| Controller recorded it | Jul. 24 08:21:20 | 50 s |",
            "| Rollout halted | Jul. 24 08:21:31 | 1 min 1 s |",
            "| Jul. 24 08:10:00 | operator:bob | approved wave canary | bind9 DSA reviewed |",
            "| Jul. 24 08:21:31 | controller | halted the rollout | wave canary: 1 host(s) failed (dns1.osc-fr1), budget 0 |",
            "SLO 99.9 %: 43 min 12 s of unavailability in a 30-day month.",
            "| dns-resolver@osc-fr1 | 5 min | 11.6 % | 40 min 30 s | 93.8 % |",
            "| dns-resolver@lab | 10 s | 0.4 % | 10 s | 0.4 % |",
            "fully down: dns-resolver@lab for 10 s, dns-resolver@osc-fr1 for 5 min.",
            "The first failure began on Jul. 24 08:20:30; the controller recorded it 50 s later and the rollout was halted 1 min 1 s after it began.",
        ] {
            #expect(markdown.contains(expected), "missing: \(expected)\n\(markdown)")
        }
        #expect(!markdown.contains("disk full"), "an unrelated later blip leaked into the postmortem")
        #expect(postmortem.markdown(zone: TimeZone(identifier: "UTC")!, slo: 99.99).contains("| Rollout halted | Jul. 24 06:21:31 | 1 min 1 s |"))
    }
}
