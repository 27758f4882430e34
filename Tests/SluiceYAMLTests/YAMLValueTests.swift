import SluiceCore
import Testing

@testable import SluiceYAML

@Suite("Strict YAML")
struct YAMLValueTests {
    @Test func anUnknownKeyIsNamedWithFileLineAndColumn() throws {
        let root = try YAMLValue.load("listen: 1\nlistne: 2\n", file: "x.yaml")
        #expect(throws: InvalidInput("x.yaml:2:1: unknown key \"listne\" (expected one of: listen)")) {
            try root.mapping(allowed: ["listen"])
        }
    }

    @Test func aWrongTypeIsNamedWithItsPath() throws {
        let root = try YAMLValue.load("a:\n  b: [1, 2]\n", file: "x.yaml").mapping(allowed: ["a"])
        let b = try #require(try root["a"]?.mapping(allowed: ["b"])["b"])
        #expect(throws: InvalidInput("x.yaml:2:6: a.b: expected a whole number, got a list")) { try b.int() }
    }

    @Test func aSyntaxErrorIsOneLineWithItsPlace() {
        #expect {
            _ = try YAMLValue.load("a: [1, 2\nb: 3\n", file: "bad.yaml")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("bad.yaml:") && !text.contains("\n")
        }
    }
}
