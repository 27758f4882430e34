import SluiceTestSupport
import Foundation
import SluiceCore

@testable import SluiceStore

/// The bind9 incident of incident-postmortem.txt, replayed as Sluice would have lived it:
/// store writes at scripted instants of a manual clock, the rollout engine's own decisions
/// (`Reconciler.decide`) applied as the controller applies them, and the agents' reports
/// as they send them. Policy and fleet as in the engine's incident test.
///
/// All times are CEST (UTC+2) on 2024-07-24, like the public postmortem's.
struct AuditIncidentScript {
    let database: SluiceDatabase
    let clock = ManualWallClock(nowMs: 0)
    var rolloutID: Int64 = 0

    /// `08:20:30` CEST on 2024-07-24, in ms since the epoch.
    static func cest(_ time: String) -> Int64 {
        let parts = time.split(separator: ":").map { Int64($0)! }
        return 1_721_779_200_000 + ((parts[0] - 2) * 3600 + parts[1] * 60 + parts[2]) * 1000
    }

    static let policy = Policy(
        name: "security-updates",
        waves: [
            WaveSpec(name: "test", selector: ["environment": ["test"]], strategy: .all, soakSeconds: 3600),
            WaveSpec(name: "canary", selector: ["environment": ["production"]], strategy: .onePerGroup, soakSeconds: 1800, approval: .manual),
            WaveSpec(name: "rest", selector: ["environment": ["production"]], strategy: .batches(size: .hosts(2)), soakSeconds: 600, approval: .manual),
        ])

    static let fleet: [(String, [String: String])] = [
        ("test1", ["environment": "test", "role": "dns-resolver", "region": "lab"]),
        ("dns1.osc-fr1", ["environment": "production", "role": "dns-resolver", "region": "osc-fr1"]),
        ("dns2.osc-fr1", ["environment": "production", "role": "dns-resolver", "region": "osc-fr1"]),
        ("dns1.osc-secnum-fr1", ["environment": "production", "role": "dns-resolver", "region": "osc-secnum-fr1"]),
        ("dns2.osc-secnum-fr1", ["environment": "production", "role": "dns-resolver", "region": "osc-secnum-fr1"]),
    ]

    static let failureOutput = """
        /etc/bind/named.conf.options:12: option 'dnssec-enable' no longer exists
        --- after rollback ---
        unit named.service is failed
        """

    init(database: SluiceDatabase) { self.database = database }

    func at(_ time: String) { clock.set(nowMs: Self.cest(time)) }
    func host(_ id: String) -> HostID { Fixtures.host(id) }

    /// Applies the reconciler's decisions until nothing changes at this instant.
    func settle() throws {
        for _ in 0..<20 {
            let actions = Reconciler.decide(try database.reconcileSnapshot(staleAfterMs: 86_400_000), nowMs: clock.nowMs())
            var changed = false
            for action in actions where try database.apply(action, nowMs: clock.nowMs()) { changed = true }
            if !changed { return }
        }
    }

    func step(_ host: String, _ step: ApplyStep, _ detail: String, at time: String, output: String? = nil, outcome: ApplyOutcome? = nil) throws {
        at(time)
        let assignment = try database.rolloutDetail(rolloutID, nowMs: clock.nowMs(), staleAfterMs: 86_400_000).waves
            .flatMap(\.hosts).first { $0.hostID.rawValue == host }!.id
        try database.recordStep(
            host: self.host(host), assignment: assignment, report: ApplyStepReport(step: step, detail: detail, output: output, outcome: outcome),
            nowMs: clock.nowMs())
    }

    /// Runs the whole script; returns the rollout's id.
    mutating func run() throws -> Int64 {
        at("05:50:00")
        let token = try database.createEnrollmentToken(name: "fleet", uses: 10, expiresAtMs: Int64.max / 2, labels: nil, actor: .local("root"), nowMs: clock.nowMs())
        for (id, labels) in Self.fleet {
            _ = try database.enroll(host: host(id), labels: Fixtures.labels(labels), enrollmentKeyID: token.keyID, nowMs: clock.nowMs())
            try database.recordInventory(host: host(id), report: Fixtures.report(), nowMs: clock.nowMs())
            try database.recordHealth(host: host(id), healthy: true, detail: "2 check(s) passed", nowMs: clock.nowMs())
        }

        at("06:00:00")
        let hosts = try database.fleetHosts()
        let packages = WavePlanner.qualifyingPackages(policy: Self.policy, hosts: hosts)
        let plan = WavePlanner.plan(policy: Self.policy, packages: packages, hosts: hosts, nowMs: clock.nowMs(), staleAfterMs: 86_400_000)
        rolloutID = try database.createRollout(policy: Self.policy, plan: plan, actor: .operatorNamed("alice"), nowMs: clock.nowMs())
        try settle()

        // The test resolver takes the update and stays healthy through the hour's soak.
        try step("test1", .started, "agent began the apply", at: "06:00:05")
        try step("test1", .preflighted, "preflight passed", at: "06:00:10")
        try step("test1", .saved, "saved 1 package(s) for rollback", at: "06:00:12")
        try step("test1", .held, "service restarts held", at: "06:00:13")
        try step("test1", .installed, "installed bind9=1:9.18.28-1~deb12u2 with restarts held", at: "06:00:20")
        try step("test1", .validated, "no validation configured", at: "06:00:25")
        try step("test1", .restarted, "restarted named", at: "06:00:30")
        try step("test1", .healthy, "2 health check(s) passed after 1 round(s)", at: "06:00:40")
        try step("test1", .finished, "installed bind9=1:9.18.28-1~deb12u2; healthy", at: "06:00:41", outcome: .succeeded)
        try settle()
        at("07:00:41")
        try settle()

        // Operators: approve the canaries, pause to look, resume.
        at("08:10:00")
        try database.decide(.approve(wave: "canary"), rollout: rolloutID, reason: "bind9 DSA reviewed", actor: .operatorNamed("bob"), nowMs: clock.nowMs())
        at("08:15:00")
        try database.decide(.pause, rollout: rolloutID, reason: "checking the test resolver's dashboards", actor: .operatorNamed("alice"), nowMs: clock.nowMs())
        at("08:17:00")
        try database.decide(.resume, rollout: rolloutID, reason: "dashboards fine", actor: .operatorNamed("alice"), nowMs: clock.nowMs())

        // The first production resolver: bind refuses its config after the restart, and the
        // rollback does not bring it back.
        at("08:20:00")
        try settle()
        try step("dns1.osc-fr1", .started, "agent began the apply", at: "08:20:05")
        try step("dns1.osc-fr1", .preflighted, "preflight passed", at: "08:20:07")
        try step("dns1.osc-fr1", .saved, "saved 1 package(s) for rollback", at: "08:20:09")
        try step("dns1.osc-fr1", .held, "service restarts held", at: "08:20:10")
        try step("dns1.osc-fr1", .installed, "installed bind9=1:9.18.28-1~deb12u2 with restarts held", at: "08:20:20")
        try step("dns1.osc-fr1", .validated, "no validation configured", at: "08:20:25")
        try step("dns1.osc-fr1", .restarted, "restarted named", at: "08:20:30")
        try step("dns1.osc-fr1", .rolledBack, "reinstalled bind9=1:9.18.24-1 under the restart hold", at: "08:21:20")
        try step(
            "dns1.osc-fr1", .finished, "health check failed after restart: unit named.service is failed; rolled back but still unhealthy",
            at: "08:21:30", output: Self.failureOutput, outcome: .failed)
        at("08:21:31")
        try settle()

        // The other resolver of the region buckles under the whole load for five minutes;
        // the on-call operator's workaround brings the first one back.
        at("08:40:00")
        try database.recordHealth(host: host("dns2.osc-fr1"), healthy: false, detail: "dns 127.0.0.1 example.org: timeout (overloaded)", nowMs: clock.nowMs())
        at("08:45:00")
        try database.recordHealth(host: host("dns2.osc-fr1"), healthy: true, detail: "2 check(s) passed", nowMs: clock.nowMs())
        at("09:01:00")
        try database.recordHealth(host: host("dns1.osc-fr1"), healthy: true, detail: "2 check(s) passed", nowMs: clock.nowMs())

        // Long after, an unrelated blip elsewhere: not this rollout's business.
        at("10:00:00")
        try database.recordHealth(host: host("dns1.osc-secnum-fr1"), healthy: false, detail: "disk full", nowMs: clock.nowMs())
        at("10:05:00")
        try database.recordHealth(host: host("dns1.osc-secnum-fr1"), healthy: true, detail: "2 check(s) passed", nowMs: clock.nowMs())
        return rolloutID
    }
}
