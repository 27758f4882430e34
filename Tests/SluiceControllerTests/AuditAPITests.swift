import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceAPI
import SluiceCore
import SluiceStore
import Testing

@testable import SluiceController

/// The audit routes on a router of their own (`buildRouter` mounts them with the others):
/// the same middleware, access rules from their `APIRoute`s, and what the client decodes.
@Suite("Audit API")
struct AuditAPITests {
    static func application(_ harness: ControllerHarness) -> some ApplicationProtocol {
        let router = Router(context: SluiceRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: AuthenticationMiddleware(database: harness.database, clock: harness.clock))
        AuditRoutes(database: harness.database).register(on: APIRouter(router: router))
        return Application(router: router)
    }

    @Test func viewersQueryVerifyAndReadARolloutsHistory() async throws {
        let harness = try ControllerHarness()
        try await Self.application(harness).test(.router) { client in
            // Two operator tokens and an enrollment token were created: three events.
            var query = AuditQuery(actor: "local:*", kind: "token.*", limit: 10)
            let path = "/v1/audit?" + query.parameters.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
            try await client.execute(uri: path, method: .get, headers: bearer(harness.viewer)) { response in
                #expect(response.status == .ok)
                let page = try decode(AuditPage.self, response)
                #expect(page.events.map(\.kind) == ["token.created", "token.created"] && !page.more)
                #expect(page.records.first?.prevHash == String(repeating: "0", count: 64))
            }
            query.limit = 1
            query.take = .last
            try await client.execute(
                uri: "/v1/audit?" + query.parameters.map { "\($0.name)=\($0.value)" }.joined(separator: "&"), method: .get, headers: bearer(harness.viewer)
            ) { response in
                let page = try decode(AuditPage.self, response)
                #expect(page.events.map(\.seq) == [2] && page.more)
            }
            try await client.execute(uri: "/v1/audit/verify", method: .get, headers: bearer(harness.viewer)) { response in
                let verification = try decode(AuditVerification.self, response)
                #expect(verification.intact && verification.rows == 3)
            }
            try await client.execute(uri: "/v1/rollouts/7/history", method: .get, headers: bearer(harness.viewer)) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func badQueriesAre400AndStrangersAre401() async throws {
        let harness = try ControllerHarness()
        try await Self.application(harness).test(.router) { client in
            for bad in ["/v1/audit?hots=x", "/v1/audit?limit=0", "/v1/audit?kind=a*b", "/v1/audit?since=yesterday", "/v1/audit?host=a&host=b"] {
                try await client.execute(uri: bad, method: .get, headers: bearer(harness.viewer)) { response in
                    #expect(response.status == .badRequest, "\(bad)")
                }
            }
            try await client.execute(uri: "/v1/audit", method: .get) { response in #expect(response.status == .unauthorized) }
            try await client.execute(uri: "/v1/audit/verify", method: .get, headers: bearer(harness.enrollment)) { response in
                #expect(response.status == .unauthorized || response.status == .forbidden)
            }
        }
    }
}
