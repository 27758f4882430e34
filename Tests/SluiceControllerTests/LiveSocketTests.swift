import SluiceTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import SluiceAPI
import Testing

@Suite("API over a real socket")
struct LiveSocketTests {
    @Test func theControllerAnswersOnARealLoopbackSocket() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.live) { client in
            let token = try await client.enroll("dns1", with: harness.enrollment)
            try await client.execute(uri: "/v1/hosts/dns1/inventory", method: .put, headers: bearer(token), body: jsonBody(Fixtures.report())) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/hosts", method: .get, headers: bearer(harness.admin)) {
                let list = try decode(HostList.self, $0)
                #expect(list.hosts.map(\.id.description) == ["dns1"])
            }
        }
    }
}
