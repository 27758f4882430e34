import Foundation
import SluiceAPI
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceController

@Suite("StrictJSONDecoder: one pass, closed objects, no nulls, strict JSON")
struct StrictJSONDecoderTests {
    struct Inner: Codable, Equatable {
        var name: String
        var size: Int?
    }

    struct Outer: Codable, Equatable {
        var items: [Inner]
        var flag: Bool
        var ratio: Double?
        var labels: [String: String]?
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try StrictJSONDecoder().decode(type, from: Array(text.utf8))
    }

    /// The one-line message the API would answer with, or nil if the body was accepted.
    static func refusal<T: Decodable>(_ type: T.Type, _ text: String) -> String? {
        do {
            _ = try decode(type, text)
            return nil
        } catch let error as StrictJSONError {
            return error.message
        } catch let error as DecodingError {
            return describe(error)
        } catch {
            return "\(error)"
        }
    }

    @Test func decodesWhatJSONDecoderDecodesForEveryAgentMessage() throws {
        let encoder = JSONEncoder()
        var report = Fixtures.report(candidates: [
            ("bind9", "1:9.18.24-1", "1:9.18.28-1~deb12u2", true), ("libc6", "2.36-9", "2.36-9+deb12u4", false),
        ])
        report.labels = Fixtures.labels(["role": "dns-resolver", "region": "eu"])
        let body = try encoder.encode(report)
        #expect(try StrictJSONDecoder().decode(InventoryReport.self, from: Array(body)) == JSONDecoder().decode(InventoryReport.self, from: body))
        let health = HealthReport(healthy: false, detail: "dns 127.0.0.1: timeout \u{1F4A5} \"quoted\" \\ /")
        #expect(try StrictJSONDecoder().decode(HealthReport.self, from: Array(encoder.encode(health))) == health)
        let outer = Outer(items: [Inner(name: "a", size: 3), Inner(name: "é\n\t", size: nil)], flag: true, ratio: -1.5e-3, labels: ["k": "v"])
        #expect(try StrictJSONDecoder().decode(Outer.self, from: Array(encoder.encode(outer))) == outer)
    }

    @Test func namesTheFirstUnknownPropertyWithItsPath() {
        #expect(Self.refusal(Outer.self, #"{"items": [{"name": "a"}, {"name": "b", "colour": 1}], "flag": true}"#) == "items[1].colour: unknown property")
        #expect(Self.refusal(Outer.self, #"{"items": [], "flag": true, "flga": false}"#) == "flga: unknown property")
        #expect(Self.refusal(HealthReport.self, #"{"healthy": true, "detail": "", "extra": {"deep": [1]}}"#) == "extra: unknown property")
    }

    @Test func refusesNullsAndDuplicateProperties() {
        #expect(Self.refusal(Outer.self, #"{"items": [], "flag": true, "ratio": null}"#) == "ratio: must not be null; leave the property out instead")
        #expect(Self.refusal(Outer.self, #"{"items": [{"name": "a"}, null], "flag": true}"#) == "items[1]: must not be null")
        #expect(Self.refusal([Int].self, "[1, null]") == "body[1]: must not be null")
        #expect(Self.refusal(Outer.self, #"{"items": [], "flag": true, "flag": false}"#) == "flag: property given twice")
        #expect(Self.refusal(Outer.self, #"{"items": [{"name": "a", "name": "b"}], "flag": true}"#) == "items[0].name: property given twice")
    }

    @Test func aLargeObjectIsIndexedAndStillChecked() throws {
        // Past 16 keys the parser keeps an index of the object's keys; lookups and the
        // duplicate check go through it.
        let members = (0..<40).map { #""k\#($0)": \#($0)"# }
        let labels = try Self.decode([String: Int].self, "{" + members.joined(separator: ", ") + "}")
        #expect(labels.count == 40 && labels["k0"] == 0 && labels["k39"] == 39)
        #expect(Self.refusal([String: Int].self, "{" + (members + [#""k30": 1"#]).joined(separator: ", ") + "}") == "k30: property given twice")
        #expect(Self.refusal([String: Int].self, "{" + (members + [#""k3": 1"#]).joined(separator: ", ") + "}") == "k3: property given twice")
        let outer = #"{"items": [], "flag": true, "# + members.joined(separator: ", ") + "}"
        #expect(Self.refusal(Outer.self, outer) == "k0: unknown property")
    }

    @Test func reportsMissingAndMistypedFieldsAsTheAPIDoes() {
        #expect(Self.refusal(Outer.self, #"{"items": []}"#) == "flag: required field is missing")
        #expect(Self.refusal(Outer.self, #"{"items": [{"name": 5}], "flag": true}"#) == "items[0].name: expected a string")
        #expect(Self.refusal(Outer.self, #"{"items": {}, "flag": true}"#) == "items: expected a list")
        #expect(Self.refusal(Outer.self, #"[]"#) == "body: expected an object")
        #expect(Self.refusal(Outer.self, #"{"items": [{"name": "a", "size": 1.5}], "flag": true}"#) == "items[0].size: expected a whole number")
        #expect(Self.refusal(Outer.self, #"{"items": [{"name": "a", "size": 1e2}], "flag": true}"#) == "items[0].size: expected a whole number")
        #expect(Self.refusal(Outer.self, #"{"items": [{"name": "a", "size": 99999999999999999999}], "flag": true}"#) == "items[0].size: 99999999999999999999 is out of range")
        #expect(Self.refusal(Outer.self, #"{"items": [], "flag": "yes"}"#) == "flag: expected true or false")
    }

    @Test(arguments: [
        "", " ", "{", "{\"items\": [], \"flag\": true,}", "{\"items\": [,], \"flag\": true}", "{'items': []}", "{\"items\": [], \"flag\": tru}",
        "{\"items\": [], \"flag\": true} x", "{\"items\": [], \"flag\": true} {}", "{\"items\": [], /* c */ \"flag\": true}",
        "{\"items\": [{\"name\": \"a\", \"size\": 01}], \"flag\": true}", "{\"items\": [{\"name\": \"a\", \"size\": -}], \"flag\": true}",
        "{\"items\": [{\"name\": \"a\", \"size\": 1.}], \"flag\": true}", "{\"items\": [{\"name\": \"a\", \"size\": NaN}], \"flag\": true}",
        "{\"items\": [{\"name\": \"\\ud800\"}], \"flag\": true}", "{\"items\": [{\"name\": \"\\udc00x\"}], \"flag\": true}",
        "{\"items\": [{\"name\": \"\\x41\"}], \"flag\": true}", "{\"items\": [{\"name\": \"\\u12\"}], \"flag\": true}",
        "{\"items\": [{\"name\": \"a\tb\"}], \"flag\": true}", "{\"items\": [{\"name\": \"unterminated}], \"flag\": true}",
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        let message = Self.refusal(Outer.self, text)
        #expect(message?.hasPrefix("body: not valid JSON") == true, "\(text.debugDescription) -> \(message ?? "accepted")")
    }

    @Test func refusesBytesThatAreNotUTF8() {
        var bytes = Array(#"{"items": [{"name": "a"#.utf8)
        bytes += [0xC3, 0x28]
        bytes += Array(#""}], "flag": true}"#.utf8)
        #expect(throws: StrictJSONError.self) { try StrictJSONDecoder().decode(Outer.self, from: bytes) }
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let inner = try Self.decode(Inner.self, #"{"name": "\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}"#)
        #expect(inner.name == "\"\\/\u{08}\u{0C}\n\r\t\u{E9}\u{1F600}")
    }

    /// Differential: whatever this decoder accepts, Foundation's parser accepts too, and to the
    /// same value (it is stricter, never looser). Seeded mutations of a valid body.
    @Test func neverAcceptsWhatFoundationRefuses() throws {
        let valid = Array(#"{"items": [{"name": "a\u00e9", "size": -12}, {"name": "b"}], "flag": false, "ratio": 2.5e3, "labels": {"k": "v"}}"#.utf8)
        let alphabet = Array(#"{}[]",:0123456789-+.eEtrufalsn \u"#.utf8)
        var rng = SplitMix64(seed: 20261129)
        var accepted = 0
        for round in 0..<3000 {
            var bytes = valid
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                }
            }
            guard let ours = try? StrictJSONDecoder().decode(Outer.self, from: bytes) else { continue }
            accepted += 1
            let theirs = try #require(try? JSONDecoder().decode(Outer.self, from: Data(bytes)), "round \(round): \(String(decoding: bytes, as: UTF8.self))")
            #expect(ours == theirs, "round \(round)")
        }
        #expect(accepted > 0)
    }
}
