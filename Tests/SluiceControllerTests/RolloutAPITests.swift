import SluiceTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SluiceAPI
import SluiceController
import SluiceCore
import SluiceStore
import Testing

/// The rollout routes through the real router and store: who may call what, operators'
/// decisions and their audit trail, racing approvals, the agent's long-poll, and bad input.
/// The controller runs without its own reconciler; each test reconciles by hand.
@Suite("Rollout API")
struct RolloutAPITests {
    // MARK: Authorisation

    @Test func everyRouteAdmitsExactlyTheCallersItsAccessRuleAllowsAndRefusesTheOthersWith401Or403() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try Self.operatorToken(harness)
        let table = Set(APIRoute.all.map(Self.key))
        for route in Self.expectedNewRouteAccess.keys.sorted() {
            #expect(table.contains(route), "\(route) is in the expected table but not in APIRoute.all")
        }
        let newRoutes: [APIRoute] = [
            .putHealth, .pollAssignment, .reportStep, .reportSimulation, .listPolicies, .planRollout, .createRollout, .listRollouts, .getRollout, .approveWave,
            .pauseRollout, .resumeRollout, .abortRollout, .resolveHost, .queryAudit, .verifyAudit, .rolloutHistory,
            .listTokens, .revokeToken, .listEnrollmentTokens, .revokeEnrollmentToken, .revokeHost, .decideHostLabels, .confirmInventory,
        ]
        #expect(
            Set(Self.expectedNewRouteAccess.keys) == Set(newRoutes.map(Self.key)), "the expected table must cover exactly the rollout, audit, identity and inventory confirmation routes")
        try await Self.application(harness).test(.router) { client in
            let hosts = try await Self.enrollFleet(client, harness)
            let rollout = try await Self.createRollout(client, token: operatorToken)
            try Self.reconcile(harness)
            let assignment = try #require(try harness.database.currentAssignment(for: Fixtures.host("dns1")), "dns1 was not started")
            let tokens: [Who: String] = [
                .viewer: harness.viewer, .operatorRole: operatorToken, .admin: harness.admin, .enrollmentToken: harness.enrollment,
                .hostItself: hosts["dns1"]!, .otherHost: hosts["dns2"]!,
            ]

            for route in APIRoute.all {
                let name = Self.key(route)
                let allowed = Self.allowed(by: route.access)
                if let written = Self.expectedNewRouteAccess[name] {
                    #expect(
                        allowed == written,
                        "\(name): its access rule (\(route.access)) admits \(allowed.map(\.rawValue).sorted()), the table says \(written.map(\.rawValue).sorted())")
                }
                let path = route.path.replacingOccurrences(of: "{hostID}", with: "dns1")
                    .replacingOccurrences(of: "{rolloutID}", with: String(rollout))
                    .replacingOccurrences(of: "{assignmentID}", with: String(assignment.id))
                    .replacingOccurrences(of: "{keyID}", with: "0123456789abcdef")
                    .replacingOccurrences(of: "{simulationID}", with: "7")
                for who in Who.allCases {
                    var headers = HTTPFields()
                    headers[.contentType] = "application/json"
                    if let token = tokens[who] { headers[.authorization] = "Bearer \(token)" }
                    let (status, error) = try await client.execute(
                        uri: path, method: HTTPRequest.Method(rawValue: route.method.rawValue)!, headers: headers, body: try Self.body(for: route)
                    ) { (Int($0.status.code), errorBody($0)) }
                    let call = "\(name) as \(who.rawValue)"
                    if allowed.contains(who) {
                        #expect(status != 401 && status != 403, "\(call): refused with \(status) \(error.message)")
                        #expect(error.message != "no such route", "\(call): the route is not mounted")
                    } else if who == .anonymous {
                        #expect(status == 401 && error.code == "unauthenticated", "\(call): answered \(status) \(error.code), expected 401")
                    } else {
                        #expect(status == 403 && error.code == "forbidden", "\(call): answered \(status) \(error.code), expected 403")
                    }
                }
            }
        }
    }

    // MARK: Operators

    @Test func aRolloutCreatedThroughTheAPIPlansWavesFromReportedInventoriesAndAuditsEachOperatorDecision() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try Self.operatorToken(harness)
        try await Self.application(harness).test(.router) { client in
            _ = try await Self.enrollFleet(client, harness)
            let create = jsonBody(CreateRolloutRequest(policy: "dns"))

            // A viewer may plan, but not create.
            let plan = try await client.execute(uri: "/v1/rollouts/plan", method: .post, headers: bearer(harness.viewer), body: create) {
                #expect($0.status == .ok)
                return try decode(RolloutPlan.self, $0)
            }
            var before = try Self.state(harness)
            try await client.execute(uri: "/v1/rollouts", method: .post, headers: bearer(harness.viewer), body: create) {
                #expect($0.status == .forbidden)
                #expect(errorBody($0).message == "this route needs the operator role; token has viewer")
            }
            #expect(try Self.state(harness) == before, "a viewer's refused create wrote something")

            // Waves come from what the hosts reported: web1 has nothing pending and is left out.
            let created = try await client.execute(uri: "/v1/rollouts", method: .post, headers: bearer(operatorToken), body: create) {
                #expect($0.status == .created, "\(String(buffer: $0.body))")
                return try decode(RolloutDetail.self, $0)
            }
            let id = created.summary.id
            #expect(created.summary.packages.map(\.description) == ["bind9=1:9.18.28-1~deb12u2"])
            #expect(created.summary.createdBy == "operator:olga")
            #expect(created.summary.state == .running)
            #expect(created.waves.map(\.name) == ["canary", "production"])
            #expect(created.waves.map { $0.hosts.map(\.hostID.rawValue).sorted() } == [["dns1"], ["dns2", "dns3"]])
            #expect(created.waves[1].hosts.map(\.batch).sorted() == [0, 1], "batches of one host")
            #expect(plan.waves.map { $0.hosts.map(\.hostID.rawValue).sorted() } == [["dns1"], ["dns2", "dns3"]], "the plan is what was created")
            #expect(plan.packages == created.summary.packages)
            #expect(created.warnings.contains { $0.contains("dns-resolver@ams has one member") }, "\(created.warnings)")

            try Self.reconcile(harness)
            #expect(try harness.database.currentAssignment(for: Fixtures.host("dns1"))?.state == .started)

            // A viewer may not approve.
            before = try Self.state(harness)
            let approve = jsonBody(DecisionRequest(wave: "production", reason: "CHG-7 canary healthy"))
            try await client.execute(uri: "/v1/rollouts/\(id)/approve", method: .post, headers: bearer(harness.viewer), body: approve) {
                #expect($0.status == .forbidden)
            }
            #expect(try Self.state(harness) == before, "a viewer's refused approval wrote something")

            // The operator approves, pauses, resumes and aborts.
            let approved = try await Self.decide("approve", id, approve, operatorToken, client)
            #expect(approved.waves[1].approvedBy == "operator:olga")
            #expect(try await Self.decide("pause", id, jsonBody(DecisionRequest(reason: "CHG-8 vendor advisory")), operatorToken, client).summary.state == .paused)
            #expect(try await Self.decide("resume", id, jsonBody(DecisionRequest(reason: "CHG-9 advisory withdrawn")), operatorToken, client).summary.state == .running)
            let aborted = try await Self.decide("abort", id, jsonBody(DecisionRequest(reason: "CHG-10 superseded")), operatorToken, client)
            #expect(aborted.summary.state == .aborted)
            #expect(aborted.summary.reason == "CHG-10 superseded")

            let decisions = try harness.database.auditEvents().filter { $0.rolloutID == id && $0.actor.hasPrefix("operator:") }
            #expect(
                decisions.map { "\($0.kind) \($0.actor)" } == [
                    "rollout.created operator:olga", "wave.approved operator:olga", "rollout.paused operator:olga", "rollout.resumed operator:olga",
                    "rollout.aborted operator:olga",
                ])
            #expect(decisions.first { $0.kind == "wave.approved" }?.wave == "production")
            for (kind, reason) in [
                ("wave.approved", "CHG-7 canary healthy"), ("rollout.paused", "CHG-8 vendor advisory"), ("rollout.resumed", "CHG-9 advisory withdrawn"),
                ("rollout.aborted", "CHG-10 superseded"),
            ] {
                let details = decisions.first { $0.kind == kind }?.details ?? ""
                #expect(details.contains(reason), "\(kind) does not record its reason: \(details)")
            }
        }
    }

    @Test func twoApprovalsOfOneWaveSentAtOnceGiveExactlyOne200AndOne409AndOneAuditEvent() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try Self.operatorToken(harness)
        try await Self.application(harness).test(.router) { client in
            _ = try await Self.enrollFleet(client, harness)
            // A few rounds, each on a new rollout, to give the race more chances.
            for round in 1...5 {
                let id = try await Self.createRollout(client, token: operatorToken)
                let body = jsonBody(DecisionRequest(wave: "production", reason: "round \(round)"))
                let answers = try await withThrowingTaskGroup(of: (String, Int, String).self) { group in
                    for (who, token) in [("operator:olga", operatorToken), ("operator:alice", harness.admin)] {
                        group.addTask {
                            try await client.execute(uri: "/v1/rollouts/\(id)/approve", method: .post, headers: bearer(token), body: body) {
                                (who, Int($0.status.code), errorBody($0).code)
                            }
                        }
                    }
                    var answers: [(String, Int, String)] = []
                    for try await answer in group { answers.append(answer) }
                    return answers
                }
                #expect(answers.map(\.1).sorted() == [200, 409], "round \(round): \(answers)")
                #expect(answers.first { $0.1 == 409 }?.2 == "conflict")
                let events = try harness.database.auditEvents().filter { $0.rolloutID == id && $0.kind == "wave.approved" }
                #expect(events.count == 1, "round \(round): \(events.count) wave.approved events")
                let winner = answers.first { $0.1 == 200 }?.0
                #expect(events.first?.actor == winner, "round \(round): the audit names \(events.first?.actor ?? "nobody"), the 200 went to \(winner ?? "nobody")")
                let detail = try harness.database.rolloutDetail(id, nowMs: harness.clock.nowMs(), staleAfterMs: 300_000)
                #expect(detail.waves[1].approvedBy == winner)
                _ = try await Self.decide("abort", id, jsonBody(DecisionRequest(reason: "next round")), operatorToken, client)
            }
        }
    }

    // MARK: Failed hosts

    /// A host whose apply ended `failed` (rollback unhealthy) keeps holding its redundancy
    /// group's `max_unavailable` until an operator resolves it: the other member of the group
    /// waits, and starts once the failure is resolved.
    @Test func aFailedHostHoldsItsGroupsCapacityUntilAnOperatorResolvesIt() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try Self.operatorToken(harness)
        // Both hosts in one wave and one group (role, region; max_unavailable 1); one failure
        // is within the budget, so the rollout runs on instead of halting.
        let pair = Policy(
            name: "pair", waves: [WaveSpec(name: "all", selector: ["environment": ["production"]], strategy: .all, failureBudget: 1)],
            roles: ["dns-resolver": RoleChecks(healthChecks: [.systemdUnit(name: "named.service")])])
        try await Self.application(harness, policies: [pair]).test(.router) { client in
            var tokens: [String: String] = [:]
            for host in ["dns2", "dns4"] {
                let token = try await client.enroll(
                    host, labels: ["role": "dns-resolver", "region": "fra", "environment": "production"], with: harness.enrollment)
                try await client.execute(uri: "/v1/hosts/\(host)/inventory", method: .put, headers: bearer(token), body: jsonBody(Fixtures.report())) {
                    #expect($0.status == .ok, "\(host) could not report: \(String(buffer: $0.body))")
                }
                tokens[host] = token
            }
            let created = try await client.execute(
                uri: "/v1/rollouts", method: .post, headers: bearer(operatorToken), body: jsonBody(CreateRolloutRequest(policy: "pair"))
            ) {
                #expect($0.status == .created, "\(String(buffer: $0.body))")
                return try decode(RolloutDetail.self, $0)
            }
            let rollout = created.summary.id
            #expect(created.waves.map { $0.hosts.map(\.hostID.rawValue).sorted() } == [["dns2", "dns4"]])

            func states() throws -> [String: AssignmentState] {
                let detail = try harness.database.rolloutDetail(rollout, nowMs: harness.clock.nowMs(), staleAfterMs: 300_000)
                return Dictionary(uniqueKeysWithValues: detail.waves.flatMap(\.hosts).map { ($0.hostID.rawValue, $0.state) })
            }
            func holding() throws -> [String] {
                try harness.database.reconcileSnapshot(staleAfterMs: 300_000).assignments.filter(\.holdsCapacity).map(\.hostID.rawValue).sorted()
            }

            // One member at a time: dns2 starts, dns4 waits for the group's capacity.
            try Self.reconcile(harness)
            #expect(try states() == ["dns2": .started, "dns4": .pending])
            let assignment = try #require(try harness.database.currentAssignment(for: Fixtures.host("dns2")), "dns2 was not started")

            // dns2's apply ends failed.
            let steps = "/v1/hosts/dns2/assignments/\(assignment.id)/steps"
            for (report, state) in [
                (ApplyStepReport(step: .started, detail: "starting"), AssignmentState.applying),
                (ApplyStepReport(step: .finished, detail: "named.service failed after the rollback", outcome: .failed), .failed),
            ] {
                let accepted = try await client.execute(uri: steps, method: .post, headers: bearer(tokens["dns2"]!), body: jsonBody(report)) {
                    #expect($0.status == .ok, "\(report.step): \(String(buffer: $0.body))")
                    return try decode(StepAccepted.self, $0)
                }
                #expect(accepted.state == state)
            }

            // The failure is unresolved: it holds the group, and dns4 stays pending however often the reconciler runs.
            let actions = try Self.reconcile(harness)
            #expect(!actions.contains { if case .startAssignment = $0 { true } else { false } }, "started a host of a held group: \(actions)")
            #expect(!actions.contains { if case .halt = $0 { true } else { false } }, "one failure within the budget halted: \(actions)")
            #expect(try states() == ["dns2": .failed, "dns4": .pending])
            #expect(try holding() == ["dns2"])

            // Refused resolves change nothing: a viewer, the host itself, no reason, a reason with control characters.
            let before = try Self.state(harness)
            let resolve = "/v1/hosts/dns2/resolve"
            let dealtWith = jsonBody(DecisionRequest(reason: "CHG-11 named restored by hand"))
            for (token, body, status, what) in [
                (harness.viewer, dealtWith, 403, "a viewer"), (tokens["dns2"]!, dealtWith, 403, "the host itself"),
                (operatorToken, ByteBuffer(string: "{}"), 400, "no reason"), (operatorToken, jsonBody(DecisionRequest(reason: "")), 400, "an empty reason"),
                (operatorToken, jsonBody(DecisionRequest(reason: "line one\nline two")), 400, "a reason with a newline"),
            ] {
                try await client.execute(uri: resolve, method: .post, headers: bearer(token), body: body) {
                    #expect(Int($0.status.code) == status, "\(what): answered \($0.status): \(String(buffer: $0.body))")
                }
                #expect(try Self.state(harness) == before, "a refused resolve (\(what)) wrote something")
                #expect(try holding() == ["dns2"], "a refused resolve (\(what)) released the group")
            }

            // The operator resolves it: audited with the operator and the reason; a second resolve has nothing to do.
            let resolved = try await client.execute(uri: resolve, method: .post, headers: bearer(operatorToken), body: dealtWith) {
                #expect($0.status == .ok, "\(String(buffer: $0.body))")
                return try decode(ResolveResponse.self, $0)
            }
            #expect(resolved == ResolveResponse(hostID: Fixtures.host("dns2"), resolved: 1))
            try await client.execute(uri: resolve, method: .post, headers: bearer(operatorToken), body: dealtWith) {
                #expect($0.status == .conflict)
                #expect(errorBody($0).code == "conflict")
            }
            let resolutions = try harness.database.auditEvents().filter { $0.kind == "host.resolved" }
            #expect(resolutions.map { "\($0.actor) \($0.hostID ?? "-")" } == ["operator:olga dns2"])
            #expect(resolutions.first?.details.contains("CHG-11 named restored by hand") == true, "\(resolutions.first?.details ?? "no event")")

            // Its failed assignment no longer counts against the group; but while dns2 itself still
            // reports unhealthy it is unavailable, so dns4 waits until dns2 is healthy again.
            #expect(try holding() == [])
            try Self.reconcile(harness)
            #expect(try states() == ["dns2": .failed, "dns4": .pending])
            try harness.database.recordHealth(host: Fixtures.host("dns2"), healthy: true, detail: "named answering again", nowMs: harness.clock.nowMs())
            try Self.reconcile(harness)
            #expect(try states() == ["dns2": .failed, "dns4": .started])
            #expect(try holding() == ["dns4"])
        }
    }

    // MARK: Agents

    @Test func theLongPollAnswersAtOnceOnADifferentAssignmentIsWokenByAPauseAndAStartedReportThenGets409() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try Self.operatorToken(harness)
        try await Self.application(harness).test(.router) { client in
            let hosts = try await Self.enrollFleet(client, harness)
            let agent = hosts["dns1"]!
            let id = try await Self.createRollout(client, token: operatorToken)
            try Self.reconcile(harness)

            // Differs from what the agent knows (nothing, then a stale etag): answered at once.
            let clock = ContinuousClock()
            var start = clock.now
            let first = try await Self.poll(client, agent, query: "wait=30")
            #expect(clock.now - start < .seconds(5), "a poll without known waited \(clock.now - start)")
            let assignment = try #require(first.assignment, "dns1 has no assignment: \(first)")
            #expect(assignment.state == .started && assignment.rolloutID == id)
            #expect(assignment.instructions.packages.map(\.description) == ["bind9=1:9.18.28-1~deb12u2"])
            #expect(assignment.instructions.healthChecks == [.systemdUnit(name: "named.service")], "the role's checks travel with the assignment")
            start = clock.now
            let again = try await Self.poll(client, agent, query: "wait=30&known=0-pending")
            #expect(clock.now - start < .seconds(5), "a poll with a stale etag waited \(clock.now - start)")
            #expect(again.etag == first.etag && again.assignment == assignment)

            // Unchanged: the poll waits, and the operator's pause wakes it.
            async let woken = Self.poll(client, agent, query: "wait=30&known=\(first.etag)")
            try await Task.sleep(for: .milliseconds(300))
            let pausedAt = clock.now
            _ = try await Self.decide("pause", id, jsonBody(DecisionRequest(reason: "hold on")), operatorToken, client)
            let changed = try await woken
            let answeredAt = clock.now
            #expect(answeredAt - pausedAt < .seconds(5), "the long-poll answered \(answeredAt - pausedAt) after the pause (wait was 30 s)")
            #expect(changed.etag != first.etag, "the poll answered with the etag it was told it knows")
            #expect(changed.assignment == nil, "the paused assignment went back to pending: nothing to apply")
            #expect(try harness.database.rolloutDetail(id, nowMs: harness.clock.nowMs(), staleAfterMs: 300_000).waves[0].hosts[0].state == .pending)

            // The agent reports that it starts anyway: refused, nothing recorded.
            let before = try Self.state(harness)
            try await client.execute(
                uri: "/v1/hosts/dns1/assignments/\(assignment.id)/steps", method: .post, headers: bearer(agent),
                body: jsonBody(ApplyStepReport(step: .started, detail: "starting"))
            ) {
                #expect($0.status == .conflict)
                #expect(errorBody($0).message == "assignment \(assignment.id) is pending, not started: do not apply")
            }
            #expect(try Self.state(harness) == before, "a refused step report wrote something")
        }
    }

    /// Regression (security probe): `/v1/rollouts/01` was rollout 1. An id in a path is read
    /// one way only; every other spelling of an existing rollout's or assignment's id is a 400
    /// naming the id and the text, on every route that takes one, and changes nothing.
    @Test func anIdInThePathWithALeadingZeroSignSpaceOrPastInt64IsRefusedWith400AndChangesNothing() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try Self.operatorToken(harness)
        try await Self.application(harness).test(.router) { client in
            let hosts = try await Self.enrollFleet(client, harness)
            let id = try await Self.createRollout(client, token: operatorToken)
            try Self.reconcile(harness)
            let assignment = try #require(try await Self.poll(client, hosts["dns1"]!, query: "wait=0").assignment)
            #expect(id == 1 && assignment.id == 1, "the spellings below are of 1: rollout \(id), assignment \(assignment.id)")
            let before = try Self.state(harness)

            // The router hands over the segment as sent, percent escapes included.
            let spellings = [
                "01", "0001", "+1", "%2B1", "%201", "1%20", "%091", "%EF%BC%91", "1e0", "0x1", "9223372036854775808", "18446744073709551617",
            ]
            let requests: [(HTTPRequest.Method, String, String, String, ByteBuffer?)] = [
                (.get, "/v1/rollouts/{}", "rollout id", harness.viewer, nil),
                (.get, "/v1/rollouts/{}/history", "rollout id", harness.viewer, nil),
                (.post, "/v1/rollouts/{}/pause", "rollout id", operatorToken, jsonBody(DecisionRequest(reason: "hold"))),
                (.post, "/v1/rollouts/{}/approve", "rollout id", operatorToken, ByteBuffer(string: "{}")),
                (.post, "/v1/hosts/dns1/assignments/{}/steps", "assignment id", hosts["dns1"]!, jsonBody(ApplyStepReport(step: .started, detail: "go"))),
            ]
            for segment in spellings {
                for (method, template, what, token, body) in requests {
                    let uri = template.replacingOccurrences(of: "{}", with: segment)
                    let (status, message) = try await client.execute(uri: uri, method: method, headers: bearer(token), body: body) {
                        (Int($0.status.code), errorBody($0).message)
                    }
                    #expect(status == 400, "\(method) \(uri) answered \(status): \(message)")
                    #expect(
                        message == "path: \(what) must be a whole number from 1 to 9223372036854775807 in plain digits (no sign, leading zero or space), not \"\(segment)\"",
                        "\(method) \(uri)")
                }
            }
            #expect(try Self.state(harness) == before, "a refused id changed something")

            // The one spelling of the id still works.
            try await client.execute(uri: "/v1/rollouts/1", method: .get, headers: bearer(harness.viewer)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/rollouts/1/history", method: .get, headers: bearer(harness.viewer)) { #expect($0.status == .ok) }
        }
    }

    /// Regression: `ChangeSignal.wait` returns at once in a cancelled task, so the poll loop
    /// used to spin on the database (a whole core) until `wait` ran out.
    @Test func aCancelledLongPollEndsAtOnceInsteadOfSpinningUntilItsWaitRunsOut() async throws {
        let harness = try ControllerHarness()
        try await Self.application(harness).test(.router) { client in
            let hosts = try await Self.enrollFleet(client, harness)
            let agent = hosts["dns1"]!
            let clock = ContinuousClock()
            let start = clock.now
            let poll = Task {
                try await client.execute(uri: "/v1/hosts/dns1/assignment?wait=30&known=none", method: .get, headers: bearer(agent)) { $0.status }
            }
            try await Task.sleep(for: .milliseconds(200))
            poll.cancel()
            _ = try? await poll.value
            #expect(clock.now - start < .seconds(5), "the cancelled long-poll ran for \(clock.now - start) (wait was 30 s)")
        }
    }

    // MARK: Bad input

    @Test func badInputIsRefusedNamingTheProblemAndChangesNothing() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try Self.operatorToken(harness)
        try await Self.application(harness).test(.router) { client in
            let hosts = try await Self.enrollFleet(client, harness)
            let id = try await Self.createRollout(client, token: operatorToken)
            try Self.reconcile(harness)
            let before = try Self.state(harness)

            func expectRefused(
                _ method: HTTPRequest.Method, _ uri: String, token: String, body: ByteBuffer? = nil, _ status: Int, _ message: (String) -> Bool,
                _ what: String
            ) async throws {
                let (answered, text) = try await client.execute(uri: uri, method: method, headers: bearer(token), body: body) {
                    (Int($0.status.code), errorBody($0).message)
                }
                #expect(answered == status, "\(what): answered \(answered), expected \(status): \(text)")
                #expect(message(text), "\(what): \(text)")
                #expect(try Self.state(harness) == before, "\(what) changed something")
            }
            let pause = ByteBuffer(string: #"{"reason":"maintenance"}"#)

            // Creating and planning.
            for route in ["/v1/rollouts", "/v1/rollouts/plan"] {
                try await expectRefused(
                    .post, route, token: operatorToken, body: jsonBody(CreateRolloutRequest(policy: "nope")), 404,
                    { $0 == "no policy \"nope\"; known: dns" }, "\(route): an unknown policy")
                try await expectRefused(
                    .post, route, token: operatorToken, body: ByteBuffer(string: #"{"policy":"dns","packages":["bind9"]}"#), 400,
                    { $0.hasPrefix("packages[0]: ") }, "\(route): a pin without a version")
                try await expectRefused(
                    .post, route, token: operatorToken,
                    body: ByteBuffer(string: #"{"policy":"dns","packages":["bind9=1:9.18.28-1~deb12u2","bind9=1.0;reboot"]}"#), 400,
                    { $0.hasPrefix("packages[1]: ") }, "\(route): a pin with a shell metacharacter")
                try await expectRefused(
                    .post, route, token: operatorToken, body: ByteBuffer(string: #"{"policy":"dns","packages":[]}"#), 400,
                    { $0.hasPrefix("packages: ") }, "\(route): an empty package list")
                try await expectRefused(
                    .post, route, token: operatorToken, body: ByteBuffer(string: #"{"packages":["bind9=1"]}"#), 400,
                    { $0 == "policy: required field is missing" }, "\(route): no policy")
            }

            // Rollout ids.
            for text in ["abc", "0", "-1", "1.5", "99999999999999999999"] {
                try await expectRefused(
                    .get, "/v1/rollouts/\(text)", token: harness.viewer, 400, { $0.hasPrefix("path: rollout id must be a whole number from 1 to ") },
                    "GET rollout \(text)")
                try await expectRefused(
                    .post, "/v1/rollouts/\(text)/pause", token: operatorToken, body: pause, 400,
                    { $0.hasPrefix("path: rollout id must be a whole number from 1 to ") }, "pause rollout \(text)")
            }

            // The long-poll's wait.
            for wait in ["1000", "61", "-1", "soon", ""] {
                try await expectRefused(
                    .get, "/v1/hosts/dns1/assignment?wait=\(wait)", token: hosts["dns1"]!, 400, { $0 == "wait: seconds between 0 and 60" },
                    "wait=\(wait)")
            }

            // Reasons.
            for (decision, reason) in [
                ("pause", "ok\u{1B}[31m"), ("approve", "line one\nline two"), ("abort", "tab\there"), ("resume", "del\u{7F}"),
                ("pause", String(repeating: "é", count: 501)),
            ] {
                try await expectRefused(
                    .post, "/v1/rollouts/\(id)/\(decision)", token: operatorToken, body: jsonBody(DecisionRequest(reason: reason)), 400,
                    { $0 == "reason: at most 1000 bytes of printable text" }, "\(decision) with reason \(reason.debugDescription.prefix(40))")
            }
            for decision in ["pause", "resume", "abort"] {
                try await expectRefused(
                    .post, "/v1/rollouts/\(id)/\(decision)", token: operatorToken, body: ByteBuffer(string: "{}"), 400,
                    { $0 == "reason: required to \(decision) a rollout" }, "\(decision) without a reason")
            }
            try await expectRefused(
                .post, "/v1/rollouts/\(id)/approve", token: operatorToken, body: ByteBuffer(), 400, { $0 == "body: a JSON object is required" },
                "approve without a body")
        }
    }
}

// MARK: - Helpers

extension RolloutAPITests {
    /// The callers of the authorisation table.
    enum Who: String, CaseIterable, Sendable {
        case anonymous, viewer
        case operatorRole = "operator"
        case admin
        case enrollmentToken = "enrollment token"
        case hostItself = "the host itself"
        case otherHost = "another host"
    }

    /// Who may call each rollout, audit and identity route, written out so that a change of an access rule in
    /// `APIRoute` fails here until it is made on purpose.
    static let expectedNewRouteAccess: [String: Set<Who>] = {
        let viewers: Set<Who> = [.viewer, .operatorRole, .admin]
        let operators: Set<Who> = [.operatorRole, .admin]
        let admins: Set<Who> = [.admin]
        return [
            "PUT /v1/hosts/{hostID}/health": [.hostItself],
            "GET /v1/hosts/{hostID}/assignment": [.hostItself],
            "POST /v1/hosts/{hostID}/assignments/{assignmentID}/steps": [.hostItself],
            "POST /v1/hosts/{hostID}/simulations/{simulationID}": [.hostItself],
            "GET /v1/policies": viewers,
            "POST /v1/rollouts/plan": viewers,
            "POST /v1/rollouts": operators,
            "GET /v1/rollouts": viewers,
            "GET /v1/rollouts/{rolloutID}": viewers,
            "POST /v1/rollouts/{rolloutID}/approve": operators,
            "POST /v1/rollouts/{rolloutID}/pause": operators,
            "POST /v1/rollouts/{rolloutID}/resume": operators,
            "POST /v1/rollouts/{rolloutID}/abort": operators,
            "POST /v1/hosts/{hostID}/resolve": operators,
            "GET /v1/audit": viewers,
            "GET /v1/audit/verify": viewers,
            "GET /v1/rollouts/{rolloutID}/history": viewers,
            "GET /v1/tokens": admins,
            "POST /v1/tokens/{keyID}/revoke": admins,
            "GET /v1/enrollment-tokens": admins,
            "POST /v1/enrollment-tokens/{keyID}/revoke": admins,
            "POST /v1/hosts/{hostID}/revoke": admins,
            "POST /v1/hosts/{hostID}/labels": operators,
            "PUT /v1/hosts/{hostID}/inventory/digest": [.hostItself],
        ]
    }()

    static func key(_ route: APIRoute) -> String { "\(route.method.rawValue) \(route.path)" }

    /// Who an access rule admits, for the paths the test calls (`{hostID}` is the host itself).
    static func allowed(by access: RouteAccess) -> Set<Who> {
        func operators(from role: OperatorRole) -> Set<Who> {
            Set(OperatorRole.allCases.filter { $0 >= role }.map { role -> Who in
                switch role {
                case .viewer: .viewer
                case .operator: .operatorRole
                case .admin: .admin
                }
            })
        }
        switch access {
        case .anyone: return Set(Who.allCases)
        case .enrollmentToken: return [.enrollmentToken]
        case .hostItself: return [.hostItself]
        case .operatorRole(let role): return operators(from: role)
        case .operatorRoleOrHostItself(let role): return operators(from: role).union([.hostItself])
        }
    }

    /// A plausible body for each route that takes one; whether it succeeds does not matter
    /// to the authorisation table, only that it gets past authorisation.
    static func body(for route: APIRoute) throws -> ByteBuffer? {
        switch route {
        case .enroll: jsonBody(EnrollRequest(hostID: Fixtures.host("dns9"), labels: Labels()))
        case .putInventory: jsonBody(Fixtures.report())
        case .confirmInventory: jsonBody(InventoryConfirmation(digest: InventoryDigest.hex(of: Fixtures.report())))
        case .createToken: jsonBody(CreateTokenRequest(name: "table", role: .viewer))
        case .createEnrollmentToken: jsonBody(CreateEnrollmentTokenRequest(name: "table"))
        case .putHealth: jsonBody(HealthReport(healthy: true, detail: "named.service active"))
        case .reportStep: jsonBody(ApplyStepReport(step: .healthy, detail: "healthy"))
        case .reportSimulation: jsonBody(SimulationReport())
        case .reportHandover: jsonBody(HandoverReport(reason: "orphaned", handedBackAtMs: 1, handbackDetail: "restored", takenOverAtMs: 2, takeoverDetail: "taken"))
        case .planRollout, .createRollout: jsonBody(CreateRolloutRequest(policy: "dns"))
        case .approveWave, .pauseRollout, .resumeRollout, .abortRollout, .resolveHost: jsonBody(DecisionRequest(reason: "authorisation table"))
        default:
            route.method == .GET ? nil : ByteBuffer(string: "{}")
        }
    }

    /// Canaries in `test`, then `production` one host at a time after an operator's approval.
    static let policy = Policy(
        name: "dns",
        waves: [
            WaveSpec(name: "canary", selector: ["environment": ["test"]], strategy: .onePerGroup),
            WaveSpec(name: "production", selector: ["environment": ["production"]], strategy: .batches(size: .hosts(1)), approval: .manual),
        ],
        roles: ["dns-resolver": RoleChecks(healthChecks: [.systemdUnit(name: "named.service")]), "web": RoleChecks()])

    static var quietLogger: Logger {
        var logger = Logger(label: "rollout-api-test")
        logger.logLevel = .error
        return logger
    }

    /// The harness's controller with the policy (or `policies`) and without a reconciler of its own.
    /// - Parameter simulationSeconds: how long plans wait for agents' `apt-get -s` answers; 0
    ///   (these tests' hosts do not answer) asks none.
    static func application(_ harness: ControllerHarness, policies: [Policy] = [policy], simulationSeconds: Int = 0) throws -> some ApplicationProtocol {
        var settings = ControllerSettings()
        settings.port = 0
        settings.planSimulationTimeoutSeconds = simulationSeconds
        return try buildApplication(
            settings: settings, database: harness.database, clock: harness.clock, logger: quietLogger, policies: policies, runReconciler: false)
    }

    /// Runs reconciler passes until one changes nothing.
    @discardableResult
    static func reconcile(_ harness: ControllerHarness) throws -> [ReconcileAction] {
        let reconciler = ReconcilerService(
            database: harness.database, clock: harness.clock, settings: ControllerSettings(), signal: ChangeSignal(), logger: quietLogger)
        var applied: [ReconcileAction] = []
        for _ in 0..<20 {
            let actions = try reconciler.pass()
            if actions.isEmpty { return applied }
            applied += actions
        }
        Issue.record("the reconciler did not settle in 20 passes: \(applied)")
        return applied
    }

    static func operatorToken(_ harness: ControllerHarness) throws -> String {
        try harness.database.createOperatorToken(name: "olga", role: .operator, expiresAtMs: nil, actor: .local("root"), nowMs: 0).token
    }

    /// dns1 (test), dns2 and dns3 (production, two regions) with bind9 pending; web1
    /// (production) with nothing pending. Returns each host's token.
    static func enrollFleet(_ client: some TestClientProtocol, _ harness: ControllerHarness) async throws -> [String: String] {
        let fleet: [(String, [String: String], InventoryReport)] = [
            ("dns1", ["role": "dns-resolver", "region": "fra", "environment": "test"], Fixtures.report()),
            ("dns2", ["role": "dns-resolver", "region": "fra", "environment": "production"], Fixtures.report()),
            ("dns3", ["role": "dns-resolver", "region": "ams", "environment": "production"], Fixtures.report()),
            ("web1", ["role": "web", "region": "fra", "environment": "production"], Fixtures.report(candidates: [])),
        ]
        var tokens: [String: String] = [:]
        for (host, labels, report) in fleet {
            let token = try await client.enroll(host, labels: labels, with: harness.enrollment)
            try await client.execute(uri: "/v1/hosts/\(host)/inventory", method: .put, headers: bearer(token), body: jsonBody(report)) {
                #expect($0.status == .ok, "\(host) could not report: \(String(buffer: $0.body))")
            }
            tokens[host] = token
        }
        return tokens
    }

    static func createRollout(_ client: some TestClientProtocol, token: String) async throws -> Int64 {
        try await client.execute(uri: "/v1/rollouts", method: .post, headers: bearer(token), body: jsonBody(CreateRolloutRequest(policy: "dns"))) {
            guard $0.status == .created else { throw InvalidInput("create answered \($0.status): \(String(buffer: $0.body))") }
            return try decode(RolloutDetail.self, $0).summary.id
        }
    }

    static func decide(_ decision: String, _ id: Int64, _ body: ByteBuffer, _ token: String, _ client: some TestClientProtocol) async throws -> RolloutDetail {
        try await client.execute(uri: "/v1/rollouts/\(id)/\(decision)", method: .post, headers: bearer(token), body: body) {
            guard $0.status == .ok else { throw InvalidInput("\(decision) answered \($0.status): \(String(buffer: $0.body))") }
            return try decode(RolloutDetail.self, $0)
        }
    }

    static func poll(_ client: some TestClientProtocol, _ token: String, query: String) async throws -> AssignmentPoll {
        try await client.execute(uri: "/v1/hosts/dns1/assignment?\(query)", method: .get, headers: bearer(token)) {
            guard $0.status == .ok else { throw InvalidInput("poll answered \($0.status): \(String(buffer: $0.body))") }
            return try decode(AssignmentPoll.self, $0)
        }
    }

    /// The harness's snapshot and every rollout with its waves and assignments.
    static func state(_ harness: ControllerHarness) throws -> String {
        let rollouts = try harness.database.listRollouts()
        let details = try rollouts.map { try harness.database.rolloutDetail($0.id, nowMs: harness.clock.nowMs(), staleAfterMs: 300_000) }
        return try harness.snapshot() + String(decoding: try JSONEncoder.sortedForTests.encode(details), as: UTF8.self)
    }
}

extension JSONEncoder {
    fileprivate static var sortedForTests: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}
