import SluiceTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceAPI
import SluiceCore
import SluiceStore
import Testing

@testable import SluiceController

@Suite("API authentication and authorisation")
struct AuthenticationTests {
    @Test func anAgentEnrollsReportsItsInventoryAndReadsItsOwnRecord() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let token = try await client.enroll("dns1.osc-fr1", labels: ["region": "osc-fr1", "role": "dns-resolver"], with: harness.enrollment)
            #expect(token.hasPrefix("sluice-host."))
            try await client.execute(
                uri: "/v1/hosts/dns1.osc-fr1/inventory", method: .put, headers: bearer(token), body: jsonBody(Fixtures.report())
            ) { response in
                #expect(response.status == .ok)
                let accepted = try decode(ReportAccepted.self, response)
                #expect(accepted.changed)
            }
            try await client.execute(uri: "/v1/hosts/dns1.osc-fr1", method: .get, headers: bearer(token)) { response in
                #expect(response.status == .ok)
                let detail = try decode(HostDetail.self, response)
                #expect(detail.candidates.map(\.name.description) == ["bind9"])
                #expect(detail.summary.lastSeenAtMs == harness.clock.nowMs())
            }
        }
    }

    @Test func hostACannotWriteOrReadHostB() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let a = try await client.enroll("host-a", with: harness.enrollment)
            _ = try await client.enroll("host-b", with: harness.enrollment)
            let before = try harness.snapshot()
            try await client.execute(uri: "/v1/hosts/host-b/inventory", method: .put, headers: bearer(a), body: jsonBody(Fixtures.report())) {
                #expect($0.status == .forbidden)
                #expect(errorBody($0).message == "host host-a may only read and write its own records")
            }
            try await client.execute(uri: "/v1/hosts/host-b", method: .get, headers: bearer(a)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/hosts", method: .get, headers: bearer(a)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/updates", method: .get, headers: bearer(a)) { #expect($0.status == .forbidden) }
            try await client.execute(
                uri: "/v1/enrollment-tokens", method: .post, headers: bearer(a), body: jsonBody(CreateEnrollmentTokenRequest(name: "x"))
            ) { #expect($0.status == .forbidden) }
            #expect(try harness.snapshot() == before)
        }
    }

    @Test func missingWrongAndForgedTokensGet401WithAJSONErrorAndWriteNothing() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let real = try await client.enroll("dns1", with: harness.enrollment)
            let parsed = try #require(CredentialToken(parsing: real))
            let forged = CredentialToken(kind: .host, keyID: parsed.keyID, secret: String(repeating: "x", count: 43)).text
            let before = try harness.snapshot()
            var noAuth = HTTPFields()
            noAuth[.contentType] = "application/json"
            var basic = noAuth
            basic[.authorization] = "Basic YWxpY2U6c2VjcmV0"
            let attempts: [(String, HTTPFields)] = [
                ("none", noAuth), ("basic", basic), ("garbage", bearer("not-a-token")), ("forged", bearer(forged)),
                ("unknown key", bearer(CredentialToken.generate(kind: .host).text)),
            ]
            for (name, headers) in attempts {
                try await client.execute(uri: "/v1/hosts/dns1/inventory", method: .put, headers: headers, body: jsonBody(Fixtures.report())) {
                    #expect($0.status == .unauthorized, "\(name)")
                    #expect($0.headers[.contentType]?.hasPrefix("application/json") == true, "\(name)")
                    #expect(errorBody($0).code == "unauthenticated", "\(name)")
                }
                try await client.execute(uri: "/v1/hosts", method: .get, headers: headers) { #expect($0.status == .unauthorized, "\(name)") }
            }
            #expect(try harness.snapshot() == before)
        }
    }

    @Test func operatorRoutesNeedTheRightRole() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            try await client.execute(uri: "/v1/hosts", method: .get, headers: bearer(harness.viewer)) { #expect($0.status == .ok) }
            let before = try harness.snapshot()
            try await client.execute(
                uri: "/v1/tokens", method: .post, headers: bearer(harness.viewer), body: jsonBody(CreateTokenRequest(name: "eve", role: .admin))
            ) {
                #expect($0.status == .forbidden)
                #expect(errorBody($0).message == "this route needs the admin role; token has viewer")
            }
            // An enrollment token enrolls, and does nothing else.
            try await client.execute(uri: "/v1/hosts", method: .get, headers: bearer(harness.enrollment)) { #expect($0.status == .forbidden) }
            #expect(try harness.snapshot() == before)
            try await client.execute(
                uri: "/v1/tokens", method: .post, headers: bearer(harness.admin), body: jsonBody(CreateTokenRequest(name: "bob", role: .operator))
            ) { response in
                #expect(response.status == .created)
                let issued = try decode(TokenResponse.self, response)
                let principal = try harness.database.authenticate(token: issued.token, nowMs: harness.clock.nowMs())
                #expect(principal == .operatorToken(name: "bob", role: .operator, keyID: issued.keyID))
            }
            #expect(try harness.database.auditEvents().last?.actor == "operator:alice")
        }
    }

    @Test func healthNeedsNoCredential() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            try await client.execute(uri: "/v1/health", method: .get) { #expect(String(buffer: $0.body).contains("\"status\":\"ok\"")) }
        }
    }
}
