import SluiceTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SluiceAPI
import SluiceController
import SluiceCore
import Testing

/// What an agent sends, damaged: random bytes and mutated JSON for the inventory report, the
/// health report, the step report and the inventory confirmation, through the real router and
/// store, from the host's own token, to the host's real started assignment. Every answer must
/// be a success or a 4xx with the API's one-line JSON error, never a 5xx or a crash, and a
/// refused report must change nothing. Seeded: a failure names its seed and round.
@Suite("Agent report fuzzing")
struct ReportFuzzTests {
    enum Kind: String, CaseIterable, Sendable {
        case inventory, health, step, confirmation
    }

    static let rounds = 120

    @Test(arguments: Kind.allCases)
    func damagedReportsGetA4xxAndChangeNothing(_ kind: Kind) async throws {
        let harness = try ControllerHarness()
        let operatorToken = try RolloutAPITests.operatorToken(harness)
        var settings = ControllerSettings()
        settings.port = 0
        // Hundreds of requests from one host in a second: this test is not about rate limits.
        settings.rateLimit = .init(perSecond: 100_000, burst: 100_000)
        settings.inventoryBudget = .init(perSecond: 100_000, burst: 100_000)
        let application = try buildApplication(
            settings: settings, database: harness.database, clock: harness.clock, logger: RolloutAPITests.quietLogger,
            policies: [RolloutAPITests.policy], runReconciler: false)
        try await application.test(.router) { client in
            let token = try await RolloutAPITests.enrollFleet(client, harness)["dns1"]!
            _ = try await RolloutAPITests.createRollout(client, token: operatorToken)
            try RolloutAPITests.reconcile(harness)
            let assignment = try #require(try await RolloutAPITests.poll(client, token, query: "").assignment, "dns1 has no assignment")

            let (uri, method, valid): (String, HTTPRequest.Method, Data) =
                switch kind {
                case .inventory: ("/v1/hosts/dns1/inventory", .put, try JSONEncoder().encode(Fixtures.report()))
                case .confirmation:
                    (
                        "/v1/hosts/dns1/inventory/digest", .put,
                        try JSONEncoder().encode(
                            InventoryConfirmation(
                                digest: InventoryDigest.hex(of: Fixtures.report()),
                                labels: Fixtures.labels(["role": "dns-resolver", "region": "fra", "environment": "test"])))
                    )
                case .health: ("/v1/hosts/dns1/health", .put, try JSONEncoder().encode(HealthReport(healthy: true, detail: "named is active")))
                case .step:
                    (
                        "/v1/hosts/dns1/assignments/\(assignment.id)/steps", .post,
                        try JSONEncoder().encode(
                            ApplyStepReport(
                                step: .installed, detail: "installed", output: "Setting up bind9 (1:9.18.28-1~deb12u2) ...",
                                versionsBefore: ["bind9": "1:9.18.24-1"], versionsAfter: ["bind9": "1:9.18.28-1~deb12u2"]))
                    )
                }
            let seed = UInt64(0xF022 + Kind.allCases.firstIndex(of: kind)!)
            var random = SplitMix64(seed: seed)
            var statuses: [UInt: Int] = [:]
            for round in 0..<Self.rounds {
                let body = round.isMultiple(of: 10) ? randomBytes(using: &random) : mutateJSON(valid, using: &random)
                let before = try RolloutAPITests.state(harness)
                let (status, contentType, text) = try await client.execute(uri: uri, method: method, headers: bearer(token), body: ByteBuffer(bytes: body)) {
                    ($0.status.code, $0.headers[.contentType] ?? "", String(buffer: $0.body))
                }
                statuses[UInt(status), default: 0] += 1
                let context = "\(kind) seed \(seed) round \(round): \(String(decoding: body.prefix(300), as: UTF8.self))"
                #expect([200, 400, 404, 409].contains(status), "\(context) -> \(status) \(text)")
                #expect(contentType.hasPrefix("application/json"), "\(context): \(contentType)")
                guard status != 200 else { continue }
                let error = try? JSONDecoder().decode(ErrorResponse.self, from: Data(text.utf8))
                #expect(error != nil, "\(context): not an API error: \(text)")
                if let message = error?.error.message {
                    #expect(!message.unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(context): \(message)")
                }
                #expect(try RolloutAPITests.state(harness) == before, "\(context): a refused report changed the store")
            }
            // The mutations are meant to be mostly refused, with some still valid.
            #expect(statuses[400, default: 0] > Self.rounds / 2, "\(statuses)")
            #expect(kind == .step || statuses[200, default: 0] > 0, "no mutation stayed valid: \(statuses)")
        }
    }

}

/// What scripts/fuzz-api found, each kept as a regression test.
@Suite("Findings of the API fuzzer")
struct FuzzFindingsTests {
    /// What JSONDecoder alone accepts and the document does not.
    @Test func anUnknownPropertyANullOrAnotherContentTypeIsRefusedAndChangesNothing() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let token = try await client.enroll("dns1", with: harness.enrollment)
            let cases: [(String, String?, String)] = [
                (#"{"healthy": true, "detail": "", "heathy": false}"#, "application/json", "heathy: unknown property"),
                (#"{"healthy": true, "detail": null}"#, "application/json", "detail: must not be null; leave the property out instead"),
                (#"{"healthy": true, "detail": "ok"}"#, "text/plain", #"Content-Type: "text/plain" is not application/json"#),
                (#"{"healthy": true, "detail": "ok"}"#, nil, "Content-Type: send the body as application/json"),
            ]
            for (body, contentType, message) in cases {
                var headers = bearer(token)
                headers[.contentType] = contentType
                let before = try harness.snapshot()
                try await client.execute(uri: "/v1/hosts/dns1/health", method: .put, headers: headers, body: ByteBuffer(string: body)) {
                    #expect($0.status == .badRequest, "\(body)")
                    #expect(errorBody($0).message == message, "\(body)")
                }
                #expect(try harness.snapshot() == before, "\(body)")
            }
            // Inside nested objects and lists too, and for an optional property left null.
            let admin = harness.admin
            for (uri, body, message) in [
                ("/v1/tokens", #"{"name": "bob", "role": "viewer", "expiresInSecond": 60}"#, "expiresInSecond: unknown property"),
                ("/v1/tokens", #"{"name": "bob", "role": "viewer", "expiresInSeconds": null}"#, "expiresInSeconds: must not be null; leave the property out instead"),
            ] {
                try await client.execute(uri: uri, method: .post, headers: bearer(admin), body: ByteBuffer(string: body)) {
                    #expect($0.status == .badRequest, "\(body)")
                    #expect(errorBody($0).message == message, "\(body)")
                }
            }
            var report = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Fixtures.report())) as! [String: Any]
            var candidates = report["candidates"] as! [[String: Any]]
            var origins = candidates[0]["origins"] as! [[String: Any]]
            origins[0]["suite"] = "bookworm-security"
            candidates[0]["origins"] = origins
            report["candidates"] = candidates
            try await client.execute(
                uri: "/v1/hosts/dns1/inventory", method: .put, headers: bearer(token), body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: report))
            ) {
                #expect($0.status == .badRequest)
                #expect(errorBody($0).message == "candidates[0].origins[0].suite: unknown property")
            }
        }
    }

    /// Found by scripts/fuzz-api: a host id of 253 characters is valid, but its credential's
    /// name was limited to 128 and the enrollment failed with a 500.
    @Test func aHostIdOfTheLongestValidLengthEnrolls() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let id = String(repeating: "a", count: 253)
            let token = try await client.enroll(id, with: harness.enrollment)
            try await client.execute(uri: "/v1/hosts/\(id)", method: .get, headers: bearer(token)) {
                #expect($0.status == .ok, "\(String(buffer: $0.body))")
            }
        }
    }

    /// `wave` has `minLength: 1`; a pause (or a resolve) that carried `"wave": ""` was done.
    @Test func anEmptyWaveNameIsRefusedOnEveryDecision() async throws {
        let harness = try ControllerHarness()
        let operatorToken = try RolloutAPITests.operatorToken(harness)
        try await RolloutAPITests.application(harness).test(.router) { client in
            _ = try await RolloutAPITests.enrollFleet(client, harness)
            let id = try await RolloutAPITests.createRollout(client, token: operatorToken)
            for uri in ["/v1/rollouts/\(id)/pause", "/v1/rollouts/\(id)/approve", "/v1/rollouts/\(id)/abort", "/v1/hosts/dns1/resolve"] {
                let before = try RolloutAPITests.state(harness)
                try await client.execute(uri: uri, method: .post, headers: bearer(operatorToken), body: ByteBuffer(string: #"{"wave": "", "reason": "because"}"#)) {
                    #expect($0.status == .badRequest, "\(uri)")
                    #expect(errorBody($0).message == "wave: must not be empty; leave it out for the first wave that waits for an approval", "\(uri)")
                }
                #expect(try RolloutAPITests.state(harness) == before, "\(uri)")
            }
        }
    }
}

/// Random bytes: binary, or JSON punctuation and digits that look almost like a document.
private func randomBytes(using random: inout SplitMix64) -> Data {
    let count = Int.random(in: 0...600, using: &random)
    if Bool.random(using: &random) {
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &random) })
    }
    let alphabet = Array(#"{}[]:,"\ 0123456789.eE+-truefalsn"#.utf8)
    return Data((0..<count).map { _ in alphabet.randomElement(using: &random)! })
}

/// One to three edits of a valid body: a value of another type or past its limits, a key
/// removed or added, a null, deep nesting, or damage to the text itself.
private func mutateJSON(_ valid: Data, using random: inout SplitMix64) -> Data {
    var value = try! JSONSerialization.jsonObject(with: valid)
    for _ in 0..<Int.random(in: 1...3, using: &random) {
        if Int.random(in: 0..<8, using: &random) == 0 {
            return mutateText(try! JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]), using: &random)
        }
        value = mutateValue(value, depth: 0, using: &random)
    }
    return try! JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])
}

private func mutateValue(_ value: Any, depth: Int, using random: inout SplitMix64) -> Any {
    // Descend into a container half the time, so that nested fields are reached.
    if var object = value as? [String: Any], !object.isEmpty, depth < 6, Bool.random(using: &random) {
        let key = object.keys.sorted().randomElement(using: &random)!
        switch Int.random(in: 0..<6, using: &random) {
        case 0: object[key] = nil
        case 1: object[key + "x"] = object[key]
        case 2: object["unknownProperty"] = 1
        default: object[key] = mutateValue(object[key]!, depth: depth + 1, using: &random)
        }
        return object
    }
    if var array = value as? [Any], !array.isEmpty, depth < 6, Bool.random(using: &random) {
        let index = Int.random(in: 0..<array.count, using: &random)
        switch Int.random(in: 0..<4, using: &random) {
        case 0: array.remove(at: index)
        case 1: array.append(array[index])
        default: array[index] = mutateValue(array[index], depth: depth + 1, using: &random)
        }
        return array
    }
    let replacements: [Any] = [
        NSNull(), true, 0, -1, Int64.max, Int64.min, 1e308, -0.5, "", " ", "\u{0}", "\u{1B}[31mred", "a\nb", "ünïcödé ≠ ascii",
        String(repeating: "x", count: 70_000), "99999999999999999999", [Any](), [String: Any](), [[[[[[[[["deep"]]]]]]]]],
        Array(repeating: "bind9", count: 2000), ["bind9;rm -rf /": "1.0"], "../../etc/passwd", "1:", "-1.0", "bind9:amd64",
    ]
    return replacements.randomElement(using: &random)!
}

private func mutateText(_ data: Data, using random: inout SplitMix64) -> Data {
    var bytes = [UInt8](data)
    switch Int.random(in: 0..<5, using: &random) {
    case 0: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
    case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0...bytes.count, using: &random))
    case 2: bytes = Array(repeating: UInt8(ascii: "["), count: 100_000) + bytes + Array(repeating: UInt8(ascii: "]"), count: 100_000)
    case 3:
        // The same key twice: the decoder and the strict check must agree on one of them.
        if let brace = bytes.firstIndex(of: UInt8(ascii: "{")) { bytes.insert(contentsOf: Array(#""healthy":"no","#.utf8), at: brace + 1) }
    default: bytes += Array(" \u{0}garbage".utf8)
    }
    return Data(bytes)
}
