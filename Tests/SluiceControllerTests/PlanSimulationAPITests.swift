import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SluiceAPI
import SluiceController
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

/// Plan-time dependency closure through the real router: the plan asks each taking host's
/// agent (here, a test client that polls and answers as the agent does) what apt would do,
/// shows the answers grouped, and applies the policy's `dependencies` rule.
@Suite("Plan simulation API")
struct PlanSimulationAPITests {
    static let bind9 = try! PackagePin(parsing: "bind9=1:9.18.28-1~deb12u2")
    static let bind9Change = PackageChange(
        name: bind9.name, from: try! DebianVersion(parsing: "1:9.18.24-1"), to: bind9.version)
    static let libc6Change = PackageChange(
        name: try! PackageName(parsing: "libc6"), from: try! DebianVersion(parsing: "2.36-9"), to: try! DebianVersion(parsing: "2.36-9+deb12u4"))
    static let libfooChange = PackageChange(
        name: try! PackageName(parsing: "libfoo1"), from: try! DebianVersion(parsing: "1.0-1"), to: try! DebianVersion(parsing: "1.1-1"))

    @Test func thePlanShowsEachHostsAptAnswerGroupedAndCreateRefusesAnUpgradeOutsideTheSetNamingPackageAndHosts() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try RolloutAPITests.operatorToken(harness)
        try await RolloutAPITests.application(harness, simulationSeconds: 20).test(.router) { client in
            let tokens = try await Self.enrollFleet(client, harness)
            let answer = SimulationReport(installs: [Self.bind9Change, Self.libc6Change])
            // dns3 never polls: it is listed as unknown at once, without holding the plan up.
            let (plan, asked) = try await Self.withAgents(
                client, tokens, answers: ["dns1": answer, "dns2": answer]
            ) {
                try await client.execute(
                    uri: "/v1/rollouts/plan", method: .post, headers: bearer(harness.viewer), body: Self.request("dns")
                ) {
                    #expect($0.status == .ok, "\(String(buffer: $0.body))")
                    return try decode(RolloutPlan.self, $0)
                }
            }
            #expect(asked == ["dns1": [Self.bind9], "dns2": [Self.bind9]], "each host is asked exactly the pins it would take")
            let simulation = try #require(plan.simulation)
            #expect(simulation.groups.count == 1)
            #expect(simulation.groups.first?.hosts.map(\.rawValue) == ["dns1", "dns2"], "identical answers are one group")
            #expect(simulation.groups.first?.installs == [Self.bind9Change, Self.libc6Change])
            #expect(simulation.groups.first?.outside == [Self.libc6Change])
            #expect(simulation.unknown.map(\.hostID.rawValue) == ["dns3"])
            #expect(simulation.unknown.first?.reason == "its agent is not polling the controller")
            let refusal = try #require(plan.refusal)
            #expect(refusal.contains("libc6 2.36-9 -> 2.36-9+deb12u4 on dns1, dns2"), "\(refusal)")
            #expect(refusal.contains("dependencies: refuse"), "\(refusal)")

            let before = try RolloutAPITests.state(harness)
            _ = try await Self.withAgents(client, tokens, answers: ["dns1": answer, "dns2": answer]) {
                try await client.execute(uri: "/v1/rollouts", method: .post, headers: bearer(operatorToken), body: Self.request("dns")) {
                    #expect($0.status == .conflict)
                    let message = errorBody($0).message
                    #expect(message.hasPrefix("rollout not created: the set would also upgrade libc6 2.36-9 -> 2.36-9+deb12u4 on dns1, dns2"), "\(message)")
                }
            }
            #expect(try RolloutAPITests.state(harness) == before, "a refused create wrote something")
        }
    }

    @Test func anIncludePolicyGrowsTheSetByTheUpgradesOutsideItOnlyOnTheHostsThatNeedThemAndAuditsThem() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try RolloutAPITests.operatorToken(harness)
        var policy = RolloutAPITests.policy
        policy.dependencies = .include
        try await RolloutAPITests.application(harness, policies: [policy], simulationSeconds: 20).test(.router) { client in
            let tokens = try await Self.enrollFleet(client, harness)
            let answers = [
                "dns1": SimulationReport(installs: [Self.bind9Change, Self.libc6Change]),
                "dns2": SimulationReport(installs: [Self.bind9Change]),
                "dns3": SimulationReport(installs: [Self.bind9Change]),
            ]
            let (plan, _) = try await Self.withAgents(client, tokens, answers: answers) {
                try await client.execute(uri: "/v1/rollouts/plan", method: .post, headers: bearer(harness.viewer), body: Self.request("dns")) {
                    try decode(RolloutPlan.self, $0)
                }
            }
            #expect(plan.refusal == nil)
            #expect(plan.included.map(\.description) == ["libc6=2.36-9+deb12u4"])
            #expect(plan.packages.map(\.description) == ["bind9=1:9.18.28-1~deb12u2", "libc6=2.36-9+deb12u4"])
            let pins = plan.pinsByHost.mapValues { $0.map(\.description) }
            #expect(pins[Fixtures.host("dns1")] == ["bind9=1:9.18.28-1~deb12u2", "libc6=2.36-9+deb12u4"])
            #expect(pins[Fixtures.host("dns2")] == ["bind9=1:9.18.28-1~deb12u2"], "a host apt did not need it on does not take it")
            #expect(plan.simulation?.groups.map { $0.hosts.map(\.rawValue) } == [["dns1"], ["dns2", "dns3"]])

            let (created, _) = try await Self.withAgents(client, tokens, answers: answers) {
                try await client.execute(uri: "/v1/rollouts", method: .post, headers: bearer(operatorToken), body: Self.request("dns")) {
                    #expect($0.status == .created, "\(String(buffer: $0.body))")
                    return try decode(RolloutDetail.self, $0)
                }
            }
            #expect(created.summary.packages.map(\.description) == ["bind9=1:9.18.28-1~deb12u2", "libc6=2.36-9+deb12u4"])
            #expect(created.simulation == plan.simulation, "the rollout keeps what apt said at its creation")
            try RolloutAPITests.reconcile(harness)
            let canary = try #require(try harness.database.currentAssignment(for: Fixtures.host("dns1")))
            #expect(canary.instructions.packages.map(\.description) == ["bind9=1:9.18.28-1~deb12u2", "libc6=2.36-9+deb12u4"])
            let event = try #require(try harness.database.auditEvents().first { $0.kind == "rollout.created" })
            #expect(event.details.contains("\"included\":\"libc6=2.36-9+deb12u4\""), "\(event.details)")
            #expect(event.details.contains("\"simulated\":\"3 answered, 0 unknown\""), "\(event.details)")
        }
    }

    @Test func includeFromQualifiedOriginsTakesASecurityUpgradeAndRefusesOneFromAnotherArchive() async throws {
        let harness = try ControllerHarness()
        var policy = RolloutAPITests.policy
        policy.dependencies = .includeFromQualifiedOrigins
        try await RolloutAPITests.application(harness, policies: [policy], simulationSeconds: 20).test(.router) { client in
            let tokens = try await Self.enrollFleet(client, harness)
            let answers = [
                "dns1": SimulationReport(installs: [Self.bind9Change, Self.libc6Change]),
                "dns2": SimulationReport(installs: [Self.bind9Change, Self.libfooChange]),
                "dns3": SimulationReport(installs: [Self.bind9Change]),
            ]
            let (plan, _) = try await Self.withAgents(client, tokens, answers: answers) {
                try await client.execute(uri: "/v1/rollouts/plan", method: .post, headers: bearer(harness.viewer), body: Self.request("dns")) {
                    try decode(RolloutPlan.self, $0)
                }
            }
            let refusal = try #require(plan.refusal, "libfoo1 comes from stable-updates, which the policy does not qualify")
            #expect(refusal == "the set would also upgrade libfoo1 1.0-1 -> 1.1-1 on dns2: not from an origin the policy qualifies", "\(refusal)")
        }
    }

    @Test func anAnswerToAQuestionNobodyAskedIsRefusedWith404AndABadOneWith400() async throws {
        let harness = try ControllerHarness()
        try await RolloutAPITests.application(harness, simulationSeconds: 20).test(.router) { client in
            let tokens = try await Self.enrollFleet(client, harness)
            try await client.execute(
                uri: "/v1/hosts/dns1/simulations/12345", method: .post, headers: bearer(tokens["dns1"]!), body: jsonBody(SimulationReport())
            ) {
                #expect($0.status == .notFound)
                #expect(errorBody($0).message == "simulation 12345 was not asked of host dns1, or nobody waits for it any more")
            }
            for (body, field) in [
                (#"{"installs":[{"name":"Bad Name","to":"1.0"}],"removals":[]}"#, "name"),
                (#"{"installs":[],"removals":[],"error":"line\nbreak"}"#, "error"),
                (#"{"installs":[]}"#, "removals"),
            ] {
                try await client.execute(
                    uri: "/v1/hosts/dns1/simulations/12345", method: .post, headers: bearer(tokens["dns1"]!), body: ByteBuffer(string: body)
                ) {
                    #expect($0.status == .badRequest, "\(body)")
                    #expect(errorBody($0).message.contains(field), "\(body): \(errorBody($0).message)")
                }
            }
        }
    }

    // MARK: Helpers

    static func request(_ policy: String) -> ByteBuffer {
        jsonBody(CreateRolloutRequest(policy: policy, packages: [bind9]))
    }

    /// dns1 (test), dns2 and dns3 (production) with bind9, libc6 (security) and libfoo1
    /// (stable-updates) pending. Returns each host's token.
    static func enrollFleet(_ client: some TestClientProtocol, _ harness: ControllerHarness) async throws -> [String: String] {
        let report = Fixtures.report(candidates: [
            ("bind9", "1:9.18.24-1", "1:9.18.28-1~deb12u2", true), ("libc6", "2.36-9", "2.36-9+deb12u4", true), ("libfoo1", "1.0-1", "1.1-1", false),
        ])
        var tokens: [String: String] = [:]
        for (host, labels) in [
            ("dns1", ["role": "dns-resolver", "region": "fra", "environment": "test"]),
            ("dns2", ["role": "dns-resolver", "region": "fra", "environment": "production"]),
            ("dns3", ["role": "dns-resolver", "region": "ams", "environment": "production"]),
        ] {
            let token = try await client.enroll(host, labels: labels, with: harness.enrollment)
            try await client.execute(uri: "/v1/hosts/\(host)/inventory", method: .put, headers: bearer(token), body: jsonBody(report)) {
                #expect($0.status == .ok, "\(host) could not report: \(String(buffer: $0.body))")
            }
            tokens[host] = token
        }
        return tokens
    }

    /// Runs `body` while the hosts of `answers` poll as agents do and answer the question a
    /// plan asks them with their report. Returns what `body` returned and the pins each host was asked.
    static func withAgents<T: Sendable>(
        _ client: some TestClientProtocol, _ tokens: [String: String], answers: [String: SimulationReport],
        _ body: @Sendable () async throws -> T
    ) async throws -> (T, [String: [PackagePin]]) {
        // A first poll makes each host a listening one, as a running agent is.
        var etags: [String: String] = [:]
        for host in answers.keys { etags[host] = try await poll(client, host, tokens[host]!, known: nil, wait: 0).etag }
        let known = etags
        return try await withThrowingTaskGroup(of: (String, [PackagePin])?.self) { group in
            for (host, report) in answers {
                group.addTask {
                    var etag = known[host]
                    for _ in 0..<5 {
                        let answer = try await poll(client, host, tokens[host]!, known: etag, wait: 30)
                        etag = answer.etag
                        guard let question = answer.simulation else { continue }
                        try await client.execute(
                            uri: "/v1/hosts/\(host)/simulations/\(question.id)", method: .post, headers: bearer(tokens[host]!), body: jsonBody(report)
                        ) {
                            #expect($0.status == .ok, "\(host)'s answer: \(String(buffer: $0.body))")
                        }
                        return (host, question.packages)
                    }
                    return nil
                }
            }
            let result = try await body()
            var asked: [String: [PackagePin]] = [:]
            for try await pair in group { if let (host, pins) = pair { asked[host] = pins } }
            return (result, asked)
        }
    }

    static func poll(_ client: some TestClientProtocol, _ host: String, _ token: String, known: String?, wait: Int) async throws -> AssignmentPoll {
        let query = "wait=\(wait)" + (known.map { "&known=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? "")
        return try await client.execute(uri: "/v1/hosts/\(host)/assignment?\(query)", method: .get, headers: bearer(token)) {
            guard $0.status == .ok else { throw InvalidInput("poll answered \($0.status): \(String(buffer: $0.body))") }
            return try decode(AssignmentPoll.self, $0)
        }
    }
}
