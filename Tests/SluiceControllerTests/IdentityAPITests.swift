import SluiceTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SluiceAPI
import SluiceController
import SluiceCore
import SluiceStore
import Testing

/// Identities through the real router and store: token expiry and revocation, host
/// revocation, enrollment tokens bound to labels, and labels that only operators change.
@Suite("Identities and roles")
struct IdentityAPITests {
    // MARK: Operator tokens

    @Test func anExpiredOperatorTokenIsRefusedWith401NamingTheExpiryFromItsExpiryOn() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let issued = try await Self.createToken(client, harness, CreateTokenRequest(name: "temp", role: .viewer, expiresInSeconds: 60))
            #expect(issued.expiresAtMs == harness.clock.nowMs() + 60_000)
            try await client.execute(uri: "/v1/hosts", method: .get, headers: bearer(issued.token)) { #expect($0.status == .ok) }

            harness.clock.advance(byMs: 59_999)
            try await client.execute(uri: "/v1/hosts", method: .get, headers: bearer(issued.token)) { #expect($0.status == .ok) }
            harness.clock.advance(byMs: 1)
            let before = try harness.snapshot()
            try await client.execute(uri: "/v1/hosts", method: .get, headers: bearer(issued.token)) {
                #expect($0.status == .unauthorized)
                #expect(errorBody($0) == ErrorResponse.Body(code: "unauthenticated", message: "token \(issued.keyID) expired"))
            }
            #expect(try harness.snapshot() == before)
            let listed = try await Self.tokens(client, harness)
            #expect(listed.first { $0.keyID == issued.keyID }?.state == .expired)
        }
    }

    @Test func aRevokedTokenIsRefusedAtOnceAndTheRevocationIsAuditedWithTheActorAndReason() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let olga = try await Self.createToken(client, harness, CreateTokenRequest(name: "olga", role: .operator))
            try await client.execute(uri: "/v1/rollouts", method: .get, headers: bearer(olga.token)) { #expect($0.status == .ok) }

            let revoked = try await client.execute(
                uri: "/v1/tokens/\(olga.keyID)/revoke", method: .post, headers: bearer(harness.admin),
                body: jsonBody(RevokeRequest(reason: "CHG-88 laptop stolen"))
            ) {
                #expect($0.status == .ok, "\(String(buffer: $0.body))")
                return try decode(TokenInfo.self, $0)
            }
            #expect(revoked.state == .revoked && revoked.revokedBy == "operator:alice" && revoked.revokeReason == "CHG-88 laptop stolen")
            #expect(revoked.lastUsedAtMs == harness.clock.nowMs(), "the token's use was not recorded")

            // The very next request with it is refused, saying why.
            try await client.execute(uri: "/v1/rollouts", method: .get, headers: bearer(olga.token)) {
                #expect($0.status == .unauthorized)
                #expect(errorBody($0).message == "token \(olga.keyID) has been revoked")
            }
            // Someone without the secret learns nothing about the key id.
            let forged = CredentialToken(kind: .operatorToken, keyID: olga.keyID, secret: String(repeating: "x", count: 43)).text
            try await client.execute(uri: "/v1/rollouts", method: .get, headers: bearer(forged)) {
                #expect(errorBody($0).message == "unknown or wrong token \(olga.keyID)")
            }

            let event = try #require(try harness.database.auditEvents().last)
            #expect(event.kind == "token.revoked" && event.actor == "operator:alice")
            #expect(AuditDetails(event.details)["reason"] == "CHG-88 laptop stolen" && AuditDetails(event.details)["keyID"] == olga.keyID)

            // Listing shows it revoked, and never a secret or a hash.
            let listing = try await client.execute(uri: "/v1/tokens", method: .get, headers: bearer(harness.admin)) { String(buffer: $0.body) }
            let secret = try #require(CredentialToken(parsing: olga.token)).secret
            #expect(!listing.contains(secret) && !listing.lowercased().contains("hash"), "\(listing)")
            #expect(try await Self.tokens(client, harness).first { $0.keyID == olga.keyID }?.state == .revoked)
        }
    }

    @Test func theLastLiveAdminTokenCannotBeRevokedThroughTheAPIButAnAdminMayRevokeTheirOwnWhenAnotherExists() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let aliceKey = try #require(CredentialToken(parsing: harness.admin)).keyID
            let before = try harness.snapshot()
            try await client.execute(
                uri: "/v1/tokens/\(aliceKey)/revoke", method: .post, headers: bearer(harness.admin), body: jsonBody(RevokeRequest(reason: "rotate"))
            ) {
                #expect($0.status == .conflict)
                #expect(errorBody($0).message.hasPrefix("operator token \(aliceKey) is the last live admin token: create another admin token first"))
            }
            #expect(try harness.snapshot() == before, "a refused revocation wrote something")

            // An expired admin token does not count as a way back in.
            _ = try await Self.createToken(client, harness, CreateTokenRequest(name: "brief", role: .admin, expiresInSeconds: 1))
            harness.clock.advance(byMs: 1000)
            try await client.execute(
                uri: "/v1/tokens/\(aliceKey)/revoke", method: .post, headers: bearer(harness.admin), body: jsonBody(RevokeRequest(reason: "rotate"))
            ) { #expect($0.status == .conflict) }

            let bob = try await Self.createToken(client, harness, CreateTokenRequest(name: "bob", role: .admin))
            try await client.execute(
                uri: "/v1/tokens/\(aliceKey)/revoke", method: .post, headers: bearer(harness.admin), body: jsonBody(RevokeRequest(reason: "rotate"))
            ) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/tokens", method: .get, headers: bearer(harness.admin)) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/tokens", method: .get, headers: bearer(bob.token)) { #expect($0.status == .ok) }
        }
    }

    @Test func aRevokedEnrollmentTokenEnrollsNothing() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let keyID = try #require(CredentialToken(parsing: harness.enrollment)).keyID
            try await client.execute(
                uri: "/v1/enrollment-tokens/\(keyID)/revoke", method: .post, headers: bearer(harness.admin),
                body: jsonBody(RevokeRequest(reason: "posted in a chat"))
            ) { #expect($0.status == .ok) }
            let before = try harness.snapshot()
            let request = EnrollRequest(hostID: Fixtures.host("dns1"), labels: Labels())
            try await client.execute(uri: "/v1/enroll", method: .post, headers: bearer(harness.enrollment), body: jsonBody(request)) {
                #expect($0.status == .unauthorized)
                #expect(errorBody($0).message == "token \(keyID) has been revoked")
            }
            #expect(try harness.snapshot() == before)
            let listed = try await client.execute(uri: "/v1/enrollment-tokens", method: .get, headers: bearer(harness.admin)) {
                try decode(TokenList.self, $0)
            }
            #expect(listed.tokens.map(\.state) == [.revoked] && listed.tokens.first?.usesLeft == 10)
        }
    }

    // MARK: Enrollment bound to labels

    @Test func anEnrollmentTokenForRegionOscFr1CannotEnrollAHostIntoAnotherRegion() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let bound = try await client.execute(
                uri: "/v1/enrollment-tokens", method: .post, headers: bearer(harness.admin),
                body: jsonBody(CreateEnrollmentTokenRequest(name: "fr1", uses: 5, labels: Fixtures.labels(["region": "osc-fr1"])))
            ) { try decode(TokenResponse.self, $0) }
            let before = try harness.snapshot()
            for (labels, shown) in [(["region": "osc-secnum-fr1", "role": "dns-resolver"], "osc-secnum-fr1"), (["role": "dns-resolver"], "(none)")] {
                let request = EnrollRequest(hostID: Fixtures.host("dns1.secnum"), labels: Fixtures.labels(labels))
                try await client.execute(uri: "/v1/enroll", method: .post, headers: bearer(bound.token), body: jsonBody(request)) {
                    #expect($0.status == .forbidden)
                    #expect(errorBody($0).message == "enrollment token \(bound.keyID) only enrolls hosts with region=osc-fr1, not region=\(shown)")
                }
            }
            #expect(try harness.snapshot() == before, "a refused enrollment wrote something")
            _ = try await client.enroll("dns1.fr1", labels: ["region": "osc-fr1", "role": "dns-resolver"], with: bound.token)
            let listed = try await client.execute(uri: "/v1/enrollment-tokens", method: .get, headers: bearer(harness.admin)) {
                try decode(TokenList.self, $0)
            }
            #expect(listed.tokens.first { $0.keyID == bound.keyID }?.usesLeft == 4, "refused attempts must not use the token up")
        }
    }

    // MARK: Host revocation

    @Test func aRevokedHostsRequestsFailItsAssignmentsAreCancelledItsLongPollIsAnsweredAndAllIsAudited() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try RolloutAPITests.operatorToken(harness)
        try await RolloutAPITests.application(harness).test(.router) { client in
            let hosts = try await RolloutAPITests.enrollFleet(client, harness)
            let rollout = try await RolloutAPITests.createRollout(client, token: operatorToken)
            try RolloutAPITests.reconcile(harness)
            let first = try await RolloutAPITests.poll(client, hosts["dns1"]!, query: "wait=0")
            let assignment = try #require(first.assignment, "dns1 was not started")

            // dns1 waits for a change of its started assignment; revoking it answers at once.
            let clock = ContinuousClock()
            async let waiting = client.execute(
                uri: "/v1/hosts/dns1/assignment?wait=30&known=\(first.etag)", method: .get, headers: bearer(hosts["dns1"]!)
            ) { (status: $0.status, error: errorBody($0)) }
            try await Task.sleep(for: .milliseconds(300))
            let revokedAt = clock.now
            let answer = try await Self.revokeHost(client, "dns1", token: harness.admin, reason: "CHG-90 disk image leaked")
            #expect(answer == HostRevoked(hostID: Fixtures.host("dns1"), revokedAtMs: harness.clock.nowMs(), cancelledAssignments: 1, failedAssignments: 0))
            let poll = try await waiting
            #expect(clock.now - revokedAt < .seconds(5), "the long-poll answered \(clock.now - revokedAt) after the revocation (wait was 30 s)")
            #expect(poll.status == .unauthorized && poll.error == .init(code: APIErrorCode.hostRevoked, message: "host dns1 has been revoked"), "\(poll)")

            // Every request of the host now fails, naming why, with the code the agent acts on.
            for (uri, method, body) in [
                ("/v1/hosts/dns1/health", HTTPRequest.Method.put, jsonBody(HealthReport(healthy: true, detail: "ok"))),
                ("/v1/hosts/dns1/inventory", .put, jsonBody(Fixtures.report())),
                ("/v1/hosts/dns1/assignments/\(assignment.id)/steps", .post, jsonBody(ApplyStepReport(step: .started, detail: "starting"))),
            ] {
                try await client.execute(uri: uri, method: method, headers: bearer(hosts["dns1"]!), body: body) {
                    #expect($0.status == .unauthorized && errorBody($0) == .init(code: APIErrorCode.hostRevoked, message: "host dns1 has been revoked"), "\(uri)")
                }
            }
            #expect(try harness.database.currentAssignment(for: Fixtures.host("dns1")) == nil)
            let detail = try harness.database.rolloutDetail(rollout, nowMs: harness.clock.nowMs(), staleAfterMs: 300_000)
            #expect(detail.waves[0].hosts.map(\.state) == [.cancelled])
            #expect(try harness.database.listHosts(nowMs: harness.clock.nowMs(), staleAfterMs: 300_000).map(\.id.rawValue) == ["dns2", "dns3", "web1"])

            // A pending assignment of another host is cancelled too.
            let dns2 = try await Self.revokeHost(client, "dns2", token: harness.admin, reason: "decommissioned")
            #expect(dns2.cancelledAssignments == 1 && dns2.failedAssignments == 0)

            // The cause and each effect, with the admin and the reason, in the audit log.
            let events = try harness.database.auditEvents(hostID: Fixtures.host("dns1")).suffix(2)
            #expect(events.map(\.kind) == ["host.revoked", "assignment.cancelled"])
            #expect(events.allSatisfy { $0.actor == "operator:alice" && AuditDetails($0.details)["reason"] == "CHG-90 disk image leaked" })
            #expect(events.last?.rolloutID == rollout && AuditDetails(events.last!.details)["from"] == "started")

            // Revoking again, or enrolling the id again, is refused and changes nothing.
            let before = try harness.snapshot()
            try await client.execute(
                uri: "/v1/hosts/dns1/revoke", method: .post, headers: bearer(harness.admin), body: jsonBody(RevokeRequest(reason: "again"))
            ) {
                #expect($0.status == .conflict && errorBody($0).message.hasPrefix("host dns1 was already revoked at "))
            }
            try await client.execute(
                uri: "/v1/enroll", method: .post, headers: bearer(harness.enrollment),
                body: jsonBody(EnrollRequest(hostID: Fixtures.host("dns1"), labels: Fixtures.labels(["region": "fra"])))
            ) {
                #expect($0.status == .conflict)
                #expect(errorBody($0).message.hasSuffix("a revoked host id never enrolls again: enroll the machine under a new host id"))
            }
            #expect(try harness.snapshot() == before)
        }
    }

    @Test func aHostRevokedWhileApplyingHasItsAssignmentFailedSoItsGroupStaysHeld() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try RolloutAPITests.operatorToken(harness)
        try await RolloutAPITests.application(harness).test(.router) { client in
            let hosts = try await RolloutAPITests.enrollFleet(client, harness)
            let rollout = try await RolloutAPITests.createRollout(client, token: operatorToken)
            try RolloutAPITests.reconcile(harness)
            let assignment = try #require(try harness.database.currentAssignment(for: Fixtures.host("dns1")))
            try await client.execute(
                uri: "/v1/hosts/dns1/assignments/\(assignment.id)/steps", method: .post, headers: bearer(hosts["dns1"]!),
                body: jsonBody(ApplyStepReport(step: .started, detail: "starting"))
            ) { #expect($0.status == .ok) }

            let answer = try await Self.revokeHost(client, "dns1", token: harness.admin, reason: "CHG-91 compromised")
            #expect(answer.failedAssignments == 1 && answer.cancelledAssignments == 0)
            let detail = try harness.database.rolloutDetail(rollout, nowMs: harness.clock.nowMs(), staleAfterMs: 300_000)
            #expect(detail.waves[0].hosts.first?.state == .failed)
            #expect(detail.waves[0].hosts.first?.detail == "host revoked while applying: outcome unknown")
            let event = try #require(try harness.database.auditEvents(hostID: Fixtures.host("dns1")).last)
            #expect(event.kind == "assignment.failed" && event.actor == "operator:alice" && event.groupKey != nil)
        }
    }

    @Test func onlyAnAdminRevokesAHostAndBadRevocationsNameTheProblemAndChangeNothing() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try RolloutAPITests.operatorToken(harness)
        try await harness.application().test(.router) { client in
            let agent = try await client.enroll("dns1", with: harness.enrollment)
            let before = try harness.snapshot()
            let cases: [(String, String, ByteBuffer, HTTPResponse.Status, String)] = [
                ("/v1/hosts/dns1/revoke", operatorToken, jsonBody(RevokeRequest(reason: "x")), .forbidden, "this route needs the admin role; token has operator"),
                ("/v1/hosts/dns1/revoke", agent, jsonBody(RevokeRequest(reason: "x")), .forbidden, "this route is for operator (admin or above)"),
                ("/v1/hosts/dns1/revoke", harness.admin, ByteBuffer(string: "{}"), .badRequest, "reason: required field is missing"),
                ("/v1/hosts/dns1/revoke", harness.admin, jsonBody(RevokeRequest(reason: "")), .badRequest, "reason: must not be empty"),
                ("/v1/hosts/dns1/revoke", harness.admin, jsonBody(RevokeRequest(reason: "a\u{1B}[31m")), .badRequest, "reason: \"a\\u{1b}[31m\" contains control characters"),
                ("/v1/hosts/dns9/revoke", harness.admin, jsonBody(RevokeRequest(reason: "x")), .notFound, "host dns9 is not enrolled"),
                ("/v1/hosts/DNS1/revoke", harness.admin, jsonBody(RevokeRequest(reason: "x")), .badRequest, ""),
                ("/v1/tokens/xyz/revoke", harness.admin, jsonBody(RevokeRequest(reason: "x")), .badRequest, ""),
                ("/v1/tokens/0123456789abcdef/revoke", harness.admin, jsonBody(RevokeRequest(reason: "x")), .notFound, "no operator token 0123456789abcdef"),
            ]
            for (uri, token, body, status, message) in cases {
                try await client.execute(uri: uri, method: .post, headers: bearer(token), body: body) {
                    let error = errorBody($0)
                    #expect($0.status == status, "\(uri): \(error.message)")
                    #expect(message.isEmpty ? error.message.hasPrefix("path: ") : error.message == message, "\(uri): \(error.message)")
                    #expect(!error.message.contains("\n"))
                }
            }
            #expect(try harness.snapshot() == before)
        }
    }

    // MARK: Labels

    @Test func labelsAnAgentReportsAfterEnrollmentAreNotAppliedUntilAnOperatorApprovesThem() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try RolloutAPITests.operatorToken(harness)
        try await harness.application().test(.router) { client in
            let enrolled = ["region": "osc-fr1", "role": "dns-resolver", "environment": "test"]
            let agent = try await client.enroll("dns1", labels: enrolled, with: harness.enrollment)
            // A compromised host tries to leave the canary group: another region, production.
            let wanted = Fixtures.labels(["region": "osc-secnum-fr1", "role": "dns-resolver", "environment": "production"])
            var report = Fixtures.report()
            report.labels = wanted
            let accepted = try await Self.report(client, agent, report)
            #expect(accepted.labelChange == LabelChange(approved: Fixtures.labels(enrolled), requested: wanted, requestedAtMs: harness.clock.nowMs()))
            #expect(try Self.labels(harness) == Fixtures.labels(enrolled), "the agent changed its own labels")
            #expect(try harness.database.fleetHosts().first?.labels == Fixtures.labels(enrolled), "planning saw the agent's labels")
            let summary = try #require(try harness.database.listHosts(nowMs: harness.clock.nowMs(), staleAfterMs: 300_000).first)
            #expect(summary.pendingLabels == wanted && summary.warnings.contains { $0.hasPrefix("the agent asks for labels") })

            // Asking again is answered the same way, and audited only once.
            harness.clock.advance(byMs: 60_000)
            let again = try await Self.report(client, agent, report)
            #expect(again.labelChange?.requestedAtMs == accepted.labelChange?.requestedAtMs)
            let requested = try harness.database.auditEvents(hostID: Fixtures.host("dns1")).filter { $0.kind == "host.labels_requested" }
            #expect(requested.count == 1 && requested.first?.actor == "agent:dns1")

            // A viewer may not decide; an operator approves, with a reason, audited.
            // While the request is pending the agent cannot swap it for another one.
            var swapped = report
            swapped.labels = Fixtures.labels(["region": "osc-fr2", "role": "dns-resolver", "environment": "production"])
            #expect(try await Self.report(client, agent, swapped).labelChange?.requested == wanted)
            #expect(try harness.database.auditEvents(hostID: Fixtures.host("dns1")).filter { $0.kind == "host.labels_requested" }.count == 1)

            // Approving labels other than the ones asked for (what the operator saw is stale) changes nothing.
            let stale = jsonBody(HostLabelsRequest(action: .approve, labels: swapped.labels, reason: "CHG-92 moved to secnum"))
            try await client.execute(uri: "/v1/hosts/dns1/labels", method: .post, headers: bearer(operatorToken), body: stale) {
                #expect($0.status == .conflict, "\(String(buffer: $0.body))")
            }
            #expect(try Self.labels(harness) == Fixtures.labels(enrolled))

            let approve = jsonBody(HostLabelsRequest(action: .approve, labels: wanted, reason: "CHG-92 moved to secnum"))
            try await client.execute(uri: "/v1/hosts/dns1/labels", method: .post, headers: bearer(harness.viewer), body: approve) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/hosts/dns1/labels", method: .post, headers: bearer(agent), body: approve) {
                #expect($0.status == .forbidden)
            }
            #expect(try Self.labels(harness) == Fixtures.labels(enrolled))
            let decided = try await client.execute(uri: "/v1/hosts/dns1/labels", method: .post, headers: bearer(operatorToken), body: approve) {
                #expect($0.status == .ok, "\(String(buffer: $0.body))")
                return try decode(HostLabelsResponse.self, $0)
            }
            #expect(decided == HostLabelsResponse(hostID: Fixtures.host("dns1"), labels: wanted, previousLabels: Fixtures.labels(enrolled)))
            #expect(try Self.labels(harness) == wanted)
            let changed = try #require(try harness.database.auditEvents(hostID: Fixtures.host("dns1")).last)
            #expect(changed.kind == "host.labels_changed" && changed.actor == "operator:olga")
            #expect(AuditDetails(changed.details)["reason"] == "CHG-92 moved to secnum")
            #expect(AuditDetails(changed.details)["to"] == wanted.description)

            // The agent's labels now match: nothing pending.
            #expect(try await Self.report(client, agent, report).labelChange == nil)
            #expect(try harness.database.listHosts(nowMs: harness.clock.nowMs(), staleAfterMs: 300_000).first?.pendingLabels == nil)
        }
    }

    @Test func aRejectedLabelChangeKeepsTheLabelsAndIsNotAuditedAgainWhileTheAgentKeepsAsking() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let agent = try await client.enroll("dns1", labels: ["region": "osc-fr1"], with: harness.enrollment)
            var report = Fixtures.report()
            report.labels = Fixtures.labels(["region": "osc-secnum-fr1"])
            _ = try await Self.report(client, agent, report)
            try await client.execute(
                uri: "/v1/hosts/dns1/labels", method: .post, headers: bearer(harness.admin),
                body: jsonBody(HostLabelsRequest(action: .reject, reason: "CHG-93 not planned"))
            ) {
                #expect($0.status == .ok)
                let answer = try decode(HostLabelsResponse.self, $0)
                #expect(answer.labels == Fixtures.labels(["region": "osc-fr1"]) && answer.previousLabels == answer.labels)
            }
            let audited = try harness.database.auditEvents().count
            harness.clock.advance(byMs: 60_000)
            let answer = try await Self.report(client, agent, report)
            #expect(answer.labelChange?.rejectedAtMs != nil, "the agent is not told its request was rejected")
            #expect(try harness.database.auditEvents().count == audited, "a rejected request was audited again")
            #expect(try Self.labels(harness) == Fixtures.labels(["region": "osc-fr1"]))
            #expect(try harness.database.listHosts(nowMs: harness.clock.nowMs(), staleAfterMs: 300_000).first?.pendingLabels == nil)

            // Asking for something else is a new request.
            report.labels = Fixtures.labels(["region": "osc-fr2"])
            #expect(try await Self.report(client, agent, report).labelChange?.rejectedAtMs == nil)
            #expect(try harness.database.auditEvents().last?.kind == "host.labels_requested")
        }
    }

    @Test func badLabelDecisionsNameTheProblemAndChangeNothing() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try RolloutAPITests.operatorToken(harness)
        try await RolloutAPITests.application(harness).test(.router) { client in
            let hosts = try await RolloutAPITests.enrollFleet(client, harness)
            _ = try await RolloutAPITests.createRollout(client, token: operatorToken)
            try RolloutAPITests.reconcile(harness)
            var report = Fixtures.report()
            report.labels = Fixtures.labels(["role": "web", "region": "fra", "environment": "production"])
            _ = try await Self.report(client, hosts["web1"]!, report, host: "web1")
            let before = try RolloutAPITests.state(harness)
            let web1Labels = ["role": "web", "region": "fra", "environment": "production"]
            let cases: [(String, ByteBuffer, HTTPResponse.Status, String)] = [
                ("web1", jsonBody(HostLabelsRequest(action: .set, reason: "x")), .badRequest, "labels: required to set a host's labels"),
                ("web1", jsonBody(HostLabelsRequest(action: .reject, labels: Labels(), reason: "x")), .badRequest,
                    "labels: only for approve and set; reject takes none"),
                ("web1", jsonBody(HostLabelsRequest(action: .approve, reason: "x")), .badRequest,
                    "labels: required to approve: the labels the agent asks for, as shown to you"),
                ("web1", ByteBuffer(string: #"{"action":"promote","reason":"x"}"#), .badRequest, ""),
                ("web1", ByteBuffer(string: #"{"action":"set","labels":{"Region":"x"},"reason":"x"}"#), .badRequest, ""),
                ("web1", jsonBody(HostLabelsRequest(action: .approve, labels: Labels(), reason: "")), .badRequest, "reason: must not be empty"),
                ("web1", jsonBody(HostLabelsRequest(action: .approve, labels: Labels(), reason: "x")), .conflict,
                    "host web1 has no pending label change to approve"),
                ("web1", jsonBody(HostLabelsRequest(action: .reject, reason: "x")), .conflict, "host web1 has no pending label change to reject"),
                ("web1", jsonBody(HostLabelsRequest(action: .set, labels: Fixtures.labels(web1Labels), reason: "x")), .conflict,
                    "host web1 already has labels environment=production,region=fra,role=web"),
                ("dns1", jsonBody(HostLabelsRequest(action: .set, labels: Fixtures.labels(["role": "web"]), reason: "x")), .conflict, ""),
                ("dns9", jsonBody(HostLabelsRequest(action: .approve, labels: Labels(), reason: "x")), .notFound, "host dns9 is not enrolled"),
            ]
            for (host, body, status, message) in cases {
                try await client.execute(uri: "/v1/hosts/\(host)/labels", method: .post, headers: bearer(operatorToken), body: body) {
                    let error = errorBody($0)
                    #expect($0.status == status, "\(host) \(String(buffer: body)): \(error.message)")
                    if !message.isEmpty { #expect(error.message == message) }
                    #expect(!error.message.isEmpty && !error.message.contains("\n"))
                }
            }
            // dns1 is applying (its canary was started): no label change until it has finished.
            try await client.execute(
                uri: "/v1/hosts/dns1/labels", method: .post, headers: bearer(operatorToken),
                body: jsonBody(HostLabelsRequest(action: .set, labels: Fixtures.labels(["role": "web"]), reason: "x"))
            ) {
                #expect(errorBody($0).message.hasPrefix("host dns1 is started assignment "))
            }
            #expect(try RolloutAPITests.state(harness) == before)
        }
    }
}

// MARK: - Helpers

extension IdentityAPITests {
    static func createToken(_ client: some TestClientProtocol, _ harness: ControllerHarness, _ request: CreateTokenRequest) async throws -> TokenResponse {
        try await client.execute(uri: "/v1/tokens", method: .post, headers: bearer(harness.admin), body: jsonBody(request)) {
            guard $0.status == .created else { throw InvalidInput("create token answered \($0.status): \(String(buffer: $0.body))") }
            return try decode(TokenResponse.self, $0)
        }
    }

    static func tokens(_ client: some TestClientProtocol, _ harness: ControllerHarness) async throws -> [TokenInfo] {
        try await client.execute(uri: "/v1/tokens", method: .get, headers: bearer(harness.admin)) { try decode(TokenList.self, $0).tokens }
    }

    static func revokeHost(_ client: some TestClientProtocol, _ host: String, token: String, reason: String) async throws -> HostRevoked {
        try await client.execute(uri: "/v1/hosts/\(host)/revoke", method: .post, headers: bearer(token), body: jsonBody(RevokeRequest(reason: reason))) {
            guard $0.status == .ok else { throw InvalidInput("revoke answered \($0.status): \(String(buffer: $0.body))") }
            return try decode(HostRevoked.self, $0)
        }
    }

    static func report(
        _ client: some TestClientProtocol, _ token: String, _ report: InventoryReport, host: String = "dns1"
    ) async throws -> ReportAccepted {
        try await client.execute(uri: "/v1/hosts/\(host)/inventory", method: .put, headers: bearer(token), body: jsonBody(report)) {
            guard $0.status == .ok else { throw InvalidInput("report answered \($0.status): \(String(buffer: $0.body))") }
            return try decode(ReportAccepted.self, $0)
        }
    }

    /// dns1's labels as planning sees them.
    static func labels(_ harness: ControllerHarness) throws -> Labels? {
        try harness.database.fleetHosts().first { $0.id == Fixtures.host("dns1") }?.labels
    }
}
