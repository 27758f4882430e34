import Foundation
import SluiceAPI
import SluiceCore
import Testing

/// The end-to-end suite: each scenario on a fresh fleet lab (`scripts/fleet-lab`), with the
/// real controller, the shipped agents under systemd in their own containers and network
/// namespaces, and real apt from the lab's signed repository. Each prints its figures.
/// One lab at a time: the scenarios run one after another.
@Suite("Fleet lab: a real controller drives real agents through real apt", .serialized, .enabled(if: FleetLab.available, FleetLab.reason))
struct FleetLabScenarioTests {
    static let policy = "fleet-lab"

    @Test(.timeLimit(.minutes(30)))
    func aCleanSecurityUpdateGoesThroughTheWavesOntoEveryHostAndEveryServiceAnswers() async throws {
        try await withLab("clean-update") { lab in
            let id = try await lab.createRollout(publishing: "resolverd=1.1-1")
            var figures = ScenarioFigures("clean-update")
            _ = try await lab.waitForRollout(id, "the test wave to pass") { $0.wave("test")?.state == .passed }
            figures.mark("test wave passed")
            _ = try await lab.waitForRollout(id, "the canary wave to wait for approval") { $0.waitingOn.contains { $0.contains("approv") } }
            try await lab.approve(id, "canary")
            figures.mark("canary approved")
            _ = try await lab.waitForRollout(id, "the canary wave to pass") { $0.wave("canary")?.state == .passed }
            figures.mark("canary wave passed")
            let done = try await lab.waitForRollout(id, "the rollout to complete") { $0.summary.state != .running }
            figures.mark("rest wave passed, rollout \(done.summary.state.rawValue)")
            #expect(done.summary.state == .completed, "\(FleetLab.describe(done))")
            #expect(done.waves.flatMap(\.hosts).allSatisfy { $0.state == .succeeded }, "\(FleetLab.describe(done))")

            for host in lab.hosts {
                #expect(try await lab.installedVersion(host.name, "resolverd") == "1.1-1", "\(host.name)")
                // Started at boot, then once more by the agent after the update validated.
                let starts = try await lab.starts(host.name)
                #expect(starts.count == 2, "\(host.name): \(starts)")
            }
            let probe = try await lab.probe(for: .seconds(2))
            for line in probe { #expect(line.unanswered == 0 && line.answered > 0, "\(line)") }
            figures.print()
        }
    }

    @Test(.timeLimit(.minutes(30)))
    func theIncidentTheCanaryRefusesTheNewConfigBeforeAnyRestartAndNoOtherResolverIsTouched() async throws {
        try await withLab("incident") { lab in
            let id = try await lab.createRollout(publishing: "resolverd=2.0-1")
            var figures = ScenarioFigures("incident")
            try await lab.startProbe()
            _ = try await lab.waitForRollout(id, "the test wave to pass (its config has no dnssec-enable)") { $0.wave("test")?.state == .passed }
            figures.mark("test wave passed")
            _ = try await lab.waitForRollout(id, "the canary wave to wait for approval") { $0.waitingOn.contains { $0.contains("approv") } }
            try await lab.approve(id, "canary")
            figures.mark("canary approved")
            let halted = try await lab.waitForRollout(id, "the rollout to halt") { $0.summary.state != .running }
            figures.mark("rollout \(halted.summary.state.rawValue)")
            let probe = try await lab.stopProbe()

            #expect(halted.summary.state == .halted, "\(FleetLab.describe(halted))")
            let touched = halted.waves.flatMap(\.hosts).filter { $0.state != .pending && $0.state != .cancelled }
                .filter { lab.productionResolvers.map(\.name).contains($0.hostID.rawValue) }
            #expect(touched.count == 1, "exactly one production resolver is touched: \(FleetLab.describe(halted))")
            #expect(touched.first?.state == .rolledBack, "\(FleetLab.describe(halted))")
            for host in lab.productionResolvers {
                #expect(try await lab.installedVersion(host.name, "resolverd") == "1.0-1", "\(host.name)")
                // Never restarted: validation failed with the new binary while the old one served.
                let starts = try await lab.starts(host.name)
                #expect(starts.count == 1, "\(host.name): \(starts)")
            }
            for line in probe where lab.productionResolvers.map(\.name).contains(line.host) {
                #expect(line.unanswered == 0 && line.answered > 0, "\(line)")
            }
            figures.note("probe, every 100 ms from the bridge: " + probe.map { "\($0.host) \($0.answered)/\($0.sent) answered" }.joined(separator: ", "))
            // The postmortem names the canary that refused the update and the halt.
            let postmortem = try await lab.ctl(["postmortem", String(id)])
            #expect(postmortem.status == 0, "\(postmortem.stderr)")
            if let canary = touched.first?.hostID.rawValue {
                #expect(postmortem.stdout.contains(canary) && postmortem.stdout.contains("halt"), "\(postmortem.stdout)")
            }
            figures.print()
        }
    }

    @Test(.timeLimit(.minutes(30)))
    func anUpdateThatFailsItsHealthCheckAfterTheRestartIsRolledBackAndTheRolloutHalts() async throws {
        try await withLab("health-failure") { lab in
            let id = try await lab.createRollout(publishing: "resolverd=2.1-1")
            var figures = ScenarioFigures("health-failure")
            let halted = try await lab.waitForRollout(id, "the rollout to halt") { $0.summary.state != .running }
            figures.mark("rollout \(halted.summary.state.rawValue)")
            #expect(halted.summary.state == .halted, "\(FleetLab.describe(halted))")
            let test = try #require(lab.hosts.first { $0.environment == "test" })
            #expect(halted.wave("test")?.hosts.first?.state == .rolledBack, "\(FleetLab.describe(halted))")
            #expect(try await lab.installedVersion(test.name, "resolverd") == "1.0-1")
            // Boot, the restart with 2.1 (which never answered), the restart after the rollback.
            let starts = try await lab.starts(test.name)
            #expect(starts.count == 3, "\(starts)")
            let probe = try await lab.probe(for: .seconds(2))
            for line in probe { #expect(line.unanswered == 0 && line.answered > 0, "service answering again: \(line)") }
            let touched = halted.waves.flatMap(\.hosts).filter { $0.hostID.rawValue != test.name && $0.state != .pending && $0.state != .cancelled }
            #expect(touched.isEmpty, "no production host is touched: \(FleetLab.describe(halted))")
            for host in lab.production { #expect(try await lab.installedVersion(host.name, "resolverd") == "1.0-1", "\(host.name)") }
            figures.print()
        }
    }

    @Test(.timeLimit(.minutes(30)))
    func theControllerKilledMidWaveGoesOnAfterRestartAssignsNoHostTwiceAndItsAuditChainVerifies() async throws {
        try await withLab("controller-crash") { lab in
            let id = try await lab.createRollout(publishing: "resolverd=1.1-1")
            var figures = ScenarioFigures("controller-crash")
            _ = try await lab.waitForRollout(id, "the test host to begin its apply") {
                [.applying, .verifying].contains($0.wave("test")?.hosts.first?.state)
            }
            try await lab.controller("kill")
            figures.mark("sluiced killed (SIGKILL) mid-apply")
            try await lab.controller("start")
            figures.mark("sluiced restarted on the same database")
            _ = try await lab.waitForRollout(id, "the canary wave to wait for approval") { $0.waitingOn.contains { $0.contains("approv") } }
            try await lab.approve(id, "canary")
            let done = try await lab.waitForRollout(id, "the rollout to complete") { $0.summary.state != .running }
            figures.mark("rollout \(done.summary.state.rawValue)")
            #expect(done.summary.state == .completed, "\(FleetLab.describe(done))")
            let assigned = done.waves.flatMap(\.hosts).map(\.hostID.rawValue)
            #expect(assigned.sorted() == lab.hosts.map(\.name).sorted(), "each host once: \(assigned)")
            let twice = try lab.sql("SELECT host_id FROM assignments GROUP BY host_id HAVING count(*) > 1")
            #expect(twice.isEmpty, "hosts assigned twice: \(twice)")
            for host in lab.hosts { #expect(try await lab.installedVersion(host.name, "resolverd") == "1.1-1", "\(host.name)") }
            let verify = try await lab.ctl(["audit", "verify"])
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            figures.note("audit verify: \(verify.stdout.split(separator: "\n").first ?? "")")
            figures.print()
        }
    }

    @Test(.timeLimit(.minutes(30)))
    func anAgentKilledDuringDpkgsRunRecoversAfterItsRestartAndReportsTheTruth() async throws {
        try await withLab("agent-crash") { lab in
            let test = try #require(lab.hosts.first { $0.environment == "test" })
            let id = try await lab.createRollout(publishing: "resolverd=1.2-1")
            var figures = ScenarioFigures("agent-crash")
            // resolverd 1.2-1's postinst takes 6 s: dpkg is mid-configure while it runs.
            try await FleetLab.poll("dpkg to configure resolverd on \(test.name)", timeout: .seconds(180), interval: .milliseconds(100)) {
                let status = try await lab.exec(test.name, ["dpkg-query", "-W", "-f", "${Status}", "resolverd"])
                return status.stdout.hasSuffix("half-configured")
            }
            let kill = try await lab.exec(test.name, ["systemctl", "kill", "--kill-whom=main", "--signal=KILL", "sluice-agent"])
            #expect(kill.status == 0, "\(kill.stderr)")
            figures.mark("agent killed (SIGKILL) while dpkg ran resolverd's postinst")
            let settled = try await lab.waitForRollout(id, "the test host's assignment to settle", timeout: .seconds(240)) {
                [.succeeded, .rolledBack, .failed].contains($0.wave("test")?.hosts.first?.state)
            }
            let outcome = try #require(settled.wave("test")?.hosts.first)
            figures.mark("assignment \(outcome.state.rawValue) after the agent's restart: \(outcome.detail ?? "")")
            let restarts = try await lab.exec(test.name, ["systemctl", "show", "--property=NRestarts", "--value", "sluice-agent"])
            #expect((Int(restarts.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 1, "systemd restarted the agent: \(restarts.stdout)")
            let audit = try await lab.exec(test.name, ["dpkg", "--audit"])
            #expect(audit.status == 0 && audit.stdout.isEmpty, "dpkg --audit: \(audit.stdout)\(audit.stderr)")
            // What the controller was told is what dpkg holds.
            let installed = try await lab.installedVersion(test.name, "resolverd")
            switch outcome.state {
            case .succeeded: #expect(installed == "1.2-1")
            case .rolledBack: #expect(installed == "1.0-1")
            default: Issue.record("the recovered apply ended \(outcome.state.rawValue): \(outcome.detail ?? "")")
            }
            let probe = try await lab.probe(for: .seconds(2))
            #expect(probe.first { $0.host == test.name }.map { $0.unanswered == 0 && $0.answered > 0 } == true, "\(probe)")
            figures.print()
        }
    }

    @Test(.timeLimit(.minutes(30)))
    func aPauseWhileAgentsLongPollStartsNothingNewLetsTheHostMidApplyFinishAndResumeCompletes() async throws {
        try await withLab("pause") { lab in
            let id = try await lab.createRollout(publishing: "resolverd=1.1-1")
            var figures = ScenarioFigures("pause")
            let second = try await lab.ctl(["rollout", "create", "--policy", "fleet-lab"])
            #expect(second.status != 0 && second.stderr.contains("already has an open rollout"), "\(second.stderr)")
            _ = try await lab.waitForRollout(id, "the canary wave to wait for approval") { $0.waitingOn.contains { $0.contains("approv") } }
            try await lab.approve(id, "canary")
            let again = try await lab.ctl(["wave", "approve", String(id), "canary"])
            #expect(again.status != 0 && again.stderr.contains("already approved by operator:lab-admin"), "\(again.stderr)")
            let inFlight = try await lab.waitForRollout(id, "a canary to be under way") {
                $0.wave("canary")?.hosts.contains { [.started, .applying, .verifying].contains($0.state) } == true
            }
            let clock = ContinuousClock()
            let command = clock.now
            let pause = try await lab.ctl(["rollout", "pause", String(id), "--reason", "looking at the canary"])
            #expect(pause.status == 0, "\(pause.stderr)")
            figures.mark("paused with \(inFlight.wave("canary")?.hosts.filter { $0.state != .pending }.map(\.hostID.rawValue) ?? []) under way; sluicectl answered in \(command.duration(to: clock.now).seconds)")
            // The host mid-apply finishes; nothing else starts while the pause holds, checked
            // continuously over ten seconds (two soaks and ten reconcile passes).
            _ = try await lab.waitForRollout(id, "the canary under way to finish") {
                $0.waves.flatMap(\.hosts).allSatisfy { ![.started, .applying, .verifying].contains($0.state) }
            }
            let finished = try await lab.rollout(id)
            figures.mark("the apply under way finished: \(finished.waves.flatMap(\.hosts).filter { $0.state == .succeeded }.map(\.hostID.rawValue))")
            let held = clock.now
            while held.duration(to: clock.now) < .seconds(10) {
                let now = try await lab.rollout(id)
                #expect(now.summary.state == .paused)
                #expect(now.waves.flatMap(\.hosts).count(where: { $0.state != .pending }) == finished.waves.flatMap(\.hosts).count(where: { $0.state != .pending }),
                        "a host started while paused: \(FleetLab.describe(now))")
                try await clock.sleep(for: .milliseconds(250))
            }
            let startedWhilePaused = try lab.sql("""
                SELECT count(*) FROM audit_events WHERE kind = 'assignment.started'
                AND seq > (SELECT seq FROM audit_events WHERE kind = 'rollout.paused')
                """)
            #expect(startedWhilePaused == "0")
            let resume = try await lab.ctl(["rollout", "resume", String(id), "--reason", "the canary looks fine"])
            #expect(resume.status == 0, "\(resume.stderr)")
            figures.mark("resumed")
            let done = try await lab.waitForRollout(id, "the rollout to complete") { $0.summary.state != .running }
            figures.mark("rollout \(done.summary.state.rawValue)")
            #expect(done.summary.state == .completed, "\(FleetLab.describe(done))")
            for host in lab.hosts { #expect(try await lab.installedVersion(host.name, "resolverd") == "1.1-1", "\(host.name)") }
            let decisions = try lab.sql("""
                SELECT kind || ' ' || actor FROM audit_events WHERE kind IN ('wave.approved', 'rollout.paused', 'rollout.resumed') ORDER BY seq
                """)
            #expect(decisions == "wave.approved operator:lab-admin\nrollout.paused operator:lab-admin\nrollout.resumed operator:lab-admin")
            figures.print()
        }
    }

    @Test(.timeLimit(.minutes(30)))
    func aHostCutOffMidApplyFailsAtTheApplyDeadlineHaltsTheRolloutAndItsLateResultIsKept() async throws {
        try await withLab("silent-host") { lab in
            let test = try #require(lab.hosts.first { $0.environment == "test" })
            let id = try await lab.createRollout(publishing: "resolverd=1.1-1")
            var figures = ScenarioFigures("silent-host")
            _ = try await lab.waitForRollout(id, "the test host to begin its apply") { $0.wave("test")?.hosts.first?.state == .applying }
            let cut = try await FleetLab.script(["cut", test.name])
            #expect(cut.status == 0, "\(cut.stderr)")
            figures.mark("\(test.name) cut off the network mid-apply")
            // The lab policy's apply deadline is 30 s from the moment the host was told to go.
            let halted = try await lab.waitForRollout(id, "the apply deadline to fail the host and halt the rollout", timeout: .seconds(120)) {
                $0.summary.state != .running
            }
            figures.mark("rollout \(halted.summary.state.rawValue): \(halted.summary.reason ?? "")")
            #expect(halted.summary.state == .halted, "\(FleetLab.describe(halted))")
            let assignment = try #require(halted.wave("test")?.hosts.first)
            #expect(assignment.state == .failed && assignment.detail?.contains("apply deadline") == true, "\(FleetLab.describe(halted))")
            #expect(halted.waves.flatMap(\.hosts).filter { $0.hostID != assignment.hostID }.allSatisfy { $0.state == .cancelled }, "\(FleetLab.describe(halted))")
            #expect(try lab.sql("SELECT count(*) FROM audit_events WHERE kind = 'assignment.timed-out' AND host_id = '\(test.name)'") == "1")

            // Back on the network, the agent delivers what it did; the controller keeps it in
            // the audit log and the assignment stays failed until an operator resolves it.
            let restore = try await FleetLab.script(["restore", test.name])
            #expect(restore.status == 0, "\(restore.stderr)")
            try await FleetLab.poll("the late result to reach the audit log", timeout: .seconds(90)) {
                try lab.sql("SELECT count(*) FROM audit_events WHERE kind = 'agent.finished' AND host_id = '\(test.name)' AND details LIKE '%apply deadline%'") == "1"
            }
            figures.mark("\(test.name) back; its late result is in the audit log")
            #expect(try await lab.rollout(id).wave("test")?.hosts.first?.state == .failed)
            // The postmortem names the silence as the failure.
            let postmortem = try await lab.ctl(["postmortem", String(id)])
            #expect(postmortem.status == 0, "\(postmortem.stderr)")
            #expect(postmortem.stdout.contains("timed-out") && postmortem.stdout.contains("apply deadline"), "\(postmortem.stdout)")
            figures.print()
        }
    }

    @Test(.timeLimit(.minutes(30)))
    func anUpdateThatNeedsAnUpgradeOutsideItsSetIsShownByThePlanRefusedByCreateAndIncludedByAPolicyThatQualifiesIt() async throws {
        try await withLab("dependency") { lab in
            // resolverd 2.2 needs libresolverd1 2.2; every host runs 1.0 of both.
            try await lab.publish(["resolverd=2.2-1", "libresolverd1=2.2-1"])
            var figures = ScenarioFigures("dependency")
            try await FleetLab.poll("every host to report both updates", timeout: .seconds(120)) {
                let plan = try await lab.ctlJSON(RolloutPlan.self, ["rollout", "plan", "--policy", Self.policy])
                return plan.packages.map(\.description) == ["libresolverd1=2.2-1", "resolverd=2.2-1"] && plan.waves.flatMap(\.hosts).count == lab.hosts.count
            }
            let set = ["--package", "resolverd=2.2-1"]
            let plan = try await lab.ctlJSON(RolloutPlan.self, ["rollout", "plan", "--policy", Self.policy] + set)
            figures.mark("plan simulated on every host")
            let simulation = try #require(plan.simulation)
            #expect(simulation.unknown.isEmpty, "every agent answers: \(simulation.unknown)")
            #expect(Set(simulation.groups.flatMap(\.hosts).map(\.rawValue)) == Set(lab.hosts.map(\.name)))
            for group in simulation.groups {
                #expect(group.error == nil && group.removals.isEmpty, "\(group)")
                #expect(group.outside.map { "\($0.name) \($0.from?.description ?? "-") \($0.to)" } == ["libresolverd1 1.0-1 2.2-1"], "\(group)")
            }
            #expect(plan.refusal?.contains("libresolverd1 1.0-1 -> 2.2-1") == true, "\(plan.refusal ?? "no refusal")")
            let shown = try await lab.ctl(["rollout", "plan", "--policy", Self.policy] + set)
            #expect(shown.stdout.contains("upgrade libresolverd1 1.0-1 -> 2.2-1   (outside the set)"), "\(shown.stdout)")
            #expect(shown.stdout.contains("refused: the set would also upgrade libresolverd1"), "\(shown.stdout)")
            figures.note("rollout plan --policy \(Self.policy) --package resolverd=2.2-1:\n" + shown.stdout.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))

            // dependencies: refuse (the lab policy's default): nothing is created, nothing touched.
            let refused = try await lab.ctl(["rollout", "create", "--policy", Self.policy] + set)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("rollout not created") && refused.stderr.contains("libresolverd1"), "\(refused.stderr)")
            #expect(try await lab.ctlJSON(RolloutList.self, ["rollout", "list"]).rollouts.isEmpty)
            figures.mark("create refused under dependencies: refuse")

            // include-from-qualified-origins: the set grows to the closure, and no preflight refuses it.
            let created = try await lab.ctlJSON(RolloutDetail.self, ["rollout", "create", "--policy", "fleet-lab-closure"] + set)
            #expect(created.summary.packages.map(\.description) == ["libresolverd1=2.2-1", "resolverd=2.2-1"])
            let id = created.summary.id
            _ = try await lab.waitForRollout(id, "the canary wave to wait for approval") { $0.waitingOn.contains { $0.contains("approv") } }
            try await lab.approve(id, "canary")
            let done = try await lab.waitForRollout(id, "the rollout to complete") { $0.summary.state != .running }
            figures.mark("rollout \(done.summary.state.rawValue) with the closure")
            #expect(done.summary.state == .completed, "\(FleetLab.describe(done))")
            #expect(done.waves.flatMap(\.hosts).allSatisfy { $0.state == .succeeded }, "\(FleetLab.describe(done))")
            for host in lab.hosts {
                #expect(try await lab.installedVersion(host.name, "resolverd") == "2.2-1", "\(host.name)")
                #expect(try await lab.installedVersion(host.name, "libresolverd1") == "2.2-1", "\(host.name)")
            }
            #expect(try lab.sql("SELECT count(*) FROM audit_events WHERE kind = 'rollout.created' AND details LIKE '%\"included\":\"libresolverd1=2.2-1\"%'") == "1")
            figures.print()
        }
    }

    @Test(.timeLimit(.minutes(30)))
    func theAgentsOwnPackageGoesThroughTheWavesAndEachAgentReportsThenRunsTheNewOne() async throws {
        try await withLab("self-update") { lab in
            let installed = try #require(try await lab.installedVersion(lab.hosts[0].name, "sluice-agent"), "the lab installs sluice-agent's package")
            let newer = installed + "+lab1"
            var before: [String: String] = [:]
            for host in lab.hosts { before[host.name] = try await lab.mainPID(host.name, "sluice-agent") }
            let published = try await FleetLab.script(["publish-agent", newer])
            try #require(published.status == 0, "\(published.stderr)")
            let package = "sluice-agent=\(newer)"
            try await FleetLab.poll("every host to report \(package) as a candidate", timeout: .seconds(120)) {
                let plan = try await lab.ctlJSON(RolloutPlan.self, ["rollout", "plan", "--policy", Self.policy])
                return plan.packages.map(\.description) == [package] && plan.waves.flatMap(\.hosts).count == lab.hosts.count
            }
            let id = try await lab.ctlJSON(RolloutDetail.self, ["rollout", "create", "--policy", Self.policy, "--package", package]).summary.id
            var figures = ScenarioFigures("self-update")
            _ = try await lab.waitForRollout(id, "the canary wave to wait for approval") { $0.waitingOn.contains { $0.contains("approv") } }
            figures.mark("test wave passed: the test host's agent reported its own update")
            try await lab.approve(id, "canary")
            let done = try await lab.waitForRollout(id, "the rollout to complete") { $0.summary.state != .running }
            let completedAtMs = Int64(Date().timeIntervalSince1970 * 1000)
            figures.mark("rollout \(done.summary.state.rawValue)")
            #expect(done.summary.state == .completed, "\(FleetLab.describe(done))")
            #expect(done.waves.flatMap(\.hosts).allSatisfy { $0.state == .succeeded }, "\(FleetLab.describe(done))")

            for host in lab.hosts {
                #expect(try await lab.installedVersion(host.name, "sluice-agent") == newer, "\(host.name)")
                // Restarted by its unit after it reported: a new process, running the installed
                // binary (not the one dpkg replaced), and reporting again.
                var pid: String?
                try await FleetLab.poll("\(host.name)'s agent to run again", timeout: .seconds(60)) {
                    pid = try await lab.mainPID(host.name, "sluice-agent")
                    return pid != nil && pid != before[host.name]
                }
                let executable = try await lab.exec(host.name, ["readlink", "/proc/\(pid ?? "")/exe"])
                #expect(executable.stdout.trimmingCharacters(in: .newlines) == "/usr/sbin/sluice-agent", "\(host.name): \(executable.stdout)")
            }
            var hosts: [HostSummary] = []
            try await FleetLab.poll("every agent to report after the rollout", timeout: .seconds(60)) {
                hosts = try await lab.ctlJSON(HostList.self, ["hosts", "list"]).hosts
                return hosts.count == lab.hosts.count && hosts.allSatisfy { ($0.lastSeenAtMs ?? 0) > completedAtMs }
            } describe: { hosts.map { "\($0.id) last seen \($0.lastSeenAtMs ?? 0)" }.joined(separator: ", ") }
            figures.print()
        }
    }

    @Test(.timeLimit(.minutes(30)))
    func aRolloutRevertedBySluicectlPutsItsHostBackOnItsPreviousExactVersionThroughTheSameChecks() async throws {
        try await withLab("revert") { lab in
            let test = try #require(lab.hosts.first { $0.environment == "test" })
            let id = try await lab.createRollout(publishing: "resolverd=1.1-1")
            var figures = ScenarioFigures("revert")
            _ = try await lab.waitForRollout(id, "the test wave to pass") { $0.wave("test")?.state == .passed }
            #expect(try await lab.installedVersion(test.name, "resolverd") == "1.1-1")
            let early = try await lab.ctl(["rollout", "revert", String(id), "--reason", "CHG-9 resolverd 1.1 regression"])
            #expect(early.status != 0 && early.stderr.contains("abort it (or let it end) before reverting it"), "\(early.stderr)")
            let abort = try await lab.ctl(["rollout", "abort", String(id), "--reason", "resolverd 1.1 regression on \(test.name)"])
            #expect(abort.status == 0, "\(abort.stderr)")
            figures.mark("test wave passed on \(test.name), rollout aborted")

            let revert = try await lab.ctlJSON(
                RolloutDetail.self, ["rollout", "revert", String(id), "--host", test.name, "--reason", "CHG-9 resolverd 1.1 regression"])
            #expect(revert.summary.packages.map(\.description) == ["resolverd=1.0-1"], "\(FleetLab.describe(revert))")
            #expect(revert.waves.map(\.name) == ["revert"] && revert.waves.first?.hosts.map(\.hostID.rawValue) == [test.name], "\(FleetLab.describe(revert))")
            let done = try await lab.waitForRollout(revert.summary.id, "the revert to complete") { $0.summary.state != .running }
            figures.mark("revert rollout \(done.summary.state.rawValue)")
            #expect(done.summary.state == .completed, "\(FleetLab.describe(done))")
            let reverted = try #require(done.wave("revert")?.hosts.first)
            #expect(reverted.state == .succeeded && reverted.detail?.contains("resolverd=1.0-1 from ") == true, "\(reverted.detail ?? "")")
            figures.note("\(test.name): \(reverted.detail ?? "")")

            #expect(try await lab.installedVersion(test.name, "resolverd") == "1.0-1")
            // Boot, the restart with 1.1 after it validated, the restart with 1.0 after the revert validated.
            let starts = try await lab.starts(test.name)
            #expect(starts.count == 3, "\(starts)")
            let probe = try await lab.probe(for: .seconds(2))
            for line in probe { #expect(line.unanswered == 0 && line.answered > 0, "\(line)") }
            for host in lab.production { #expect(try await lab.installedVersion(host.name, "resolverd") == "1.0-1", "\(host.name)") }
            let again = try await lab.ctl(["rollout", "revert", String(id), "--host", test.name, "--reason", "again"])
            #expect(again.status != 0 && again.stderr.contains("already reverted by rollout \(revert.summary.id)"), "\(again.stderr)")
            // The original's postmortem tells what became of its host.
            let postmortem = try await lab.ctl(["postmortem", String(id)])
            #expect(postmortem.status == 0, "\(postmortem.stderr)")
            #expect(postmortem.stdout.contains("## Reverts") && postmortem.stdout.contains("\(test.name) revert succeeded"), "\(postmortem.stdout)")
            figures.print()
        }
    }

    /// Brings a fresh lab up, runs `body`, and takes the lab down; on a failure its logs are
    /// kept and named in the error.
    func withLab(_ name: String, _ body: (FleetLab) async throws -> Void) async throws {
        // One lab on this machine at a time (its namespaces and directory have fixed names):
        // another checkout's run waits here for the lock instead of tearing this one down.
        let lock = try await FleetLab.Lock.acquire()
        defer { lock.release() }
        let clock = ContinuousClock()
        let started = clock.now
        let lab = try await FleetLab.up()
        print("fleet-lab \(name): \(lab.hosts.count) hosts up and enrolled in \(started.duration(to: clock.now).seconds)")
        do {
            try await body(lab)
        } catch {
            let logs = await lab.down(keepingLogsOf: name)
            throw LiveError("\(error)\n\(logs ?? "")")
        }
        await lab.down(keepingLogsOf: nil)
    }
}

/// The times a scenario prints, each since the rollout was created.
struct ScenarioFigures {
    let name: String
    let clock = ContinuousClock()
    let started: ContinuousClock.Instant
    var lines: [String] = []

    init(_ name: String) {
        self.name = name
        started = clock.now
    }

    mutating func mark(_ what: String) { lines.append("\(started.duration(to: clock.now).seconds) \(what)") }
    mutating func note(_ text: String) { lines.append(text) }

    func print() {
        Swift.print("fleet-lab \(name) figures (seconds since the rollout was created):\n" + lines.map { "  " + $0 }.joined(separator: "\n"))
    }
}

extension Duration {
    /// "12.3 s".
    var seconds: String {
        let (s, attoseconds) = components
        return String(format: "%.1f s", Double(s) + Double(attoseconds) / 1e18)
    }
}

extension RolloutDetail {
    func wave(_ name: String) -> WaveDetail? { waves.first { $0.name == name } }
}
