import SluiceTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SluiceAPI
import SluiceCore
import Testing

@testable import SluiceController

@Suite("API bad input")
struct BadInputTests {
    func put(_ body: ByteBuffer, harness: ControllerHarness) async throws -> (Int, String) {
        try await harness.application().test(.router) { client in
            let token = try await client.enroll("dns1", with: harness.enrollment)
            let before = try harness.snapshot()
            let result = try await client.execute(uri: "/v1/hosts/dns1/inventory", method: .put, headers: bearer(token), body: body) {
                (Int($0.status.code), errorBody($0).message)
            }
            #expect(try harness.snapshot() == before, "a refused report wrote something")
            return result
        }
    }

    func reportJSON(_ edit: (inout [String: Any]) -> Void) -> ByteBuffer {
        var object = try! JSONSerialization.jsonObject(with: try! JSONEncoder().encode(Fixtures.report())) as! [String: Any]
        edit(&object)
        return ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
    }

    @Test func aBodyThatIsNotJSONGets400() async throws {
        let (status, message) = try await put(ByteBuffer(string: "{not json"), harness: try ControllerHarness())
        #expect(status == 400)
        #expect(message == "body: not valid JSON (expected a property name at byte 1)")
    }

    @Test func aMissingFieldGets400NamingIt() async throws {
        let (status, message) = try await put(reportJSON { $0["installed"] = nil }, harness: try ControllerHarness())
        #expect(status == 400)
        #expect(message == "installed: required field is missing")
    }

    @Test func aWrongTypeGets400NamingTheField() async throws {
        let (status, message) = try await put(reportJSON { $0["rebootRequired"] = "yes" }, harness: try ControllerHarness())
        #expect(status == 400)
        #expect(message == "rebootRequired: expected true or false")
    }

    @Test func aPackageNameWithShellMetacharactersGets400NamingIt() async throws {
        let body = reportJSON { object in
            var candidates = object["candidates"] as! [[String: Any]]
            candidates[0]["name"] = "bind9;rm -rf /"
            object["candidates"] = candidates
        }
        let (status, message) = try await put(body, harness: try ControllerHarness())
        #expect(status == 400)
        #expect(message.hasPrefix("candidates[0].name: invalid package name \"bind9;rm -rf /\""), "\(message)")
    }

    @Test func aControlCharacterInFreeTextGets400() async throws {
        let (status, message) = try await put(reportJSON { $0["agentVersion"] = "1.0\u{1B}[31m" }, harness: try ControllerHarness())
        #expect(status == 400)
        #expect(message.contains("agentVersion"), "\(message)")
    }

    @Test func anOversizedBodyGets413() async throws {
        let (status, _) = try await put(ByteBuffer(repeating: UInt8(ascii: " "), count: 9 << 20), harness: try ControllerHarness())
        #expect(status == 413)
    }

    @Test func anEmptyBodyGets400() async throws {
        let (status, message) = try await put(ByteBuffer(), harness: try ControllerHarness())
        #expect(status == 400)
        #expect(message == "body: a JSON object is required")
    }

    @Test func aMalformedHostIdInThePathGets400() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            try await client.execute(uri: "/v1/hosts/UPPER%3Bcase", method: .get, headers: bearer(harness.admin)) {
                #expect($0.status == .badRequest)
            }
        }
    }

    @Test func anUnknownRouteGets404InTheErrorShape() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            try await client.execute(uri: "/v1/nothing-here", method: .get, headers: bearer(harness.admin)) {
                #expect($0.status == .notFound)
                #expect(errorBody($0).code == "not_found")
            }
        }
    }

    @Test func enrollingWithAnInvalidHostIdChangesNothing() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let before = try harness.snapshot()
            let body = ByteBuffer(string: #"{"hostID": "-oAPT::evil", "labels": {}}"#)
            try await client.execute(uri: "/v1/enroll", method: .post, headers: bearer(harness.enrollment), body: body) {
                #expect($0.status == .badRequest)
                #expect(errorBody($0).message.hasPrefix("hostID: invalid host id"))
            }
            #expect(try harness.snapshot() == before)
        }
    }
}
