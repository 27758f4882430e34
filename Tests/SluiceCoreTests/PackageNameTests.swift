import Foundation
import PropertyBased
import Testing

@testable import SluiceCore

private let nameCharacters = #"only a-z, 0-9, "+", "-" and "." are allowed"#
private let architectureCharacters = #"only a-z, 0-9 and "-" are allowed"#

@Suite struct PackageNameTests {
    @Test(arguments: [
        "bind9", "libc6", "g++", "libstdc++6", "0ad", "a0", "python3.11", "xserver-xorg-video-intel",
        "linux-image-6.1.0-28-amd64", String(repeating: "a", count: 128),
    ])
    func acceptsPolicyNames(_ text: String) throws {
        let name = try PackageName(parsing: text)
        #expect(name.description == text)
        #expect(name.rawValue == text)
    }

    @Test(arguments: [
        ("", "must not be empty"),
        ("a", "must be at least 2 characters long"),
        ("-oAPT::Get", "must start with a lowercase letter or digit"),
        ("-oDebug::pkgProblemResolver=1", "must start with a lowercase letter or digit"),
        ("--purge", "must start with a lowercase letter or digit"),
        ("+foo", "must start with a lowercase letter or digit"),
        ("../etc/passwd", "must start with a lowercase letter or digit"),
        ("bind9;rm -rf /", #"contains invalid character ";"; "# + nameCharacters),
        ("$(id)", #"contains invalid character "$"; "# + nameCharacters),
        ("`id`", #"contains invalid character "`"; "# + nameCharacters),
        ("bind9 nginx", #"contains invalid character " "; "# + nameCharacters),
        ("bind9=1.0", #"contains invalid character "="; "# + nameCharacters),
        ("pool/bind9", #"contains invalid character "/"; "# + nameCharacters),
        ("bind9'", #"contains invalid character "'"; "# + nameCharacters),
        ("bind9\"", #"contains invalid character "\""; "# + nameCharacters),
        ("bind9\n", #"contains invalid character "\n"; "# + nameCharacters),
        ("bind9\0", #"contains invalid character "\0"; "# + nameCharacters),
        ("b\u{EF}nd9", #"contains invalid character "\u{EF}"; "# + nameCharacters),
        ("Bind9", #"contains uppercase letter "B"; package names are lowercase"#),
        ("libC6", #"contains uppercase letter "C"; package names are lowercase"#),
        ("libc6:amd64", #"contains ":"; an architecture qualifier is not part of the package name"#),
        (String(repeating: "a", count: 129), "is 129 characters long; the limit is 128"),
    ])
    func rejectsWithExactMessage(input: String, reason: String) {
        let error = #expect(throws: PackageSyntaxError.self) { try PackageName(parsing: input) }
        #expect(error?.subject == .packageName)
        #expect(error?.description == "invalid package name \(PackageSyntaxError.quote(input)): \(reason)")
    }

    @Test func optionLookingNameMessageIsTheDocumentedOne() {
        let error = #expect(throws: PackageSyntaxError.self) { try PackageName(parsing: "-oAPT::Get") }
        #expect(error?.description == #"invalid package name "-oAPT::Get": must start with a lowercase letter or digit"#)
        let newline = #expect(throws: PackageSyntaxError.self) { try PackageName(parsing: "x\ny") }
        #expect(newline?.description.contains("\n") == false)
        #expect(newline?.description == #"invalid package name "x\ny": contains invalid character "\n"; "# + nameCharacters)
    }

    @Test func namesOrderByTheirText() throws {
        let names = try ["nginx", "bind9", "libc6", "0ad"].map { try PackageName(parsing: $0) }
        #expect(names.sorted().map(\.description) == ["0ad", "bind9", "libc6", "nginx"])
    }

    @Test func everyAcceptedNameMatchesPolicyCharacters() async {
        let noisy = Gen<Character?>.element(of: Array("ab09+-.:A =;$/\n")).map { $0! }.string(of: 0...6)
        await propertyCheck(count: 500, input: noisy) { text in
            guard let name = try? PackageName(parsing: text) else { return }
            let scalars = Array(name.rawValue.unicodeScalars)
            #expect(scalars.count >= 2)
            #expect(DebianCharacters.isLower(scalars[0]) || DebianCharacters.isDigit(scalars[0]))
            #expect(scalars.allSatisfy { DebianCharacters.isLower($0) || DebianCharacters.isDigit($0) || "+-.".unicodeScalars.contains($0) })
        }
    }

    // MARK: Architecture

    @Test(arguments: ["amd64", "i386", "all", "any", "arm64", "armhf", "linux-any", "x32", "s390x"])
    func acceptsArchitectures(_ text: String) throws {
        #expect(try Architecture(parsing: text).description == text)
    }

    @Test(arguments: [
        ("", "must not be empty"),
        ("-amd64", "must start with a lowercase letter or digit"),
        ("AMD64", #"contains invalid character "A"; "# + architectureCharacters),
        ("x86_64", #"contains invalid character "_"; "# + architectureCharacters),
        ("amd64;id", #"contains invalid character ";"; "# + architectureCharacters),
        ("amd 64", #"contains invalid character " "; "# + architectureCharacters),
        ("arm.64", #"contains invalid character "."; "# + architectureCharacters),
        (String(repeating: "a", count: 65), "is 65 characters long; the limit is 64"),
    ])
    func rejectsArchitectureWithExactMessage(input: String, reason: String) {
        let error = #expect(throws: PackageSyntaxError.self) { try Architecture(parsing: input) }
        #expect(error?.description == "invalid architecture \(PackageSyntaxError.quote(input)): \(reason)")
    }

    // MARK: PackagePin

    @Test func pinSplitsAtTheFirstEquals() throws {
        let pin = try PackagePin(parsing: "bind9=1:9.18.28-1~deb12u2")
        #expect(pin.name.description == "bind9")
        #expect((pin.version.epoch, pin.version.upstream, pin.version.revision) == (1, "9.18.28", "1~deb12u2"))
        #expect(pin.description == "bind9=1:9.18.28-1~deb12u2")
        let built = PackagePin(name: try PackageName(parsing: "libc6"), version: try DebianVersion(parsing: "2.36-9+deb12u10"))
        #expect(built.description == "libc6=2.36-9+deb12u10")
        #expect(try PackagePin(parsing: built.description) == built)
    }

    @Test(arguments: [
        ("bind9", #"invalid package pin "bind9": expected name=version"#),
        ("", #"invalid package pin "": expected name=version"#),
        ("bind9=", #"invalid version "": must not be empty"#),
        ("=1.0", #"invalid package name "": must not be empty"#),
        ("-oAPT::Get::Foo=1", #"invalid package name "-oAPT::Get::Foo": must start with a lowercase letter or digit"#),
        ("bind9;id=1.0", #"invalid package name "bind9;id": contains invalid character ";"; "# + nameCharacters),
        ("bind9=1.0=2", #"invalid version "1.0=2": contains invalid character "="; only A-Z, a-z, 0-9, ".", "+", "~", "-" and ":" are allowed"#),
        ("bind9==1.0", #"invalid version "=1.0": contains invalid character "="; only A-Z, a-z, 0-9, ".", "+", "~", "-" and ":" are allowed"#),
        ("bind9=1.0 nginx", #"invalid version "1.0 nginx": contains invalid character " "; only A-Z, a-z, 0-9, ".", "+", "~", "-" and ":" are allowed"#),
    ])
    func rejectsPinWithExactMessage(input: String, message: String) {
        let error = #expect(throws: PackageSyntaxError.self) { try PackagePin(parsing: input) }
        #expect(error?.description == message)
    }

    // MARK: Codable

    @Test func codableUsesSingleStrings() throws {
        struct Row: Codable, Equatable {
            var name: PackageName
            var architecture: Architecture
            var pin: PackagePin
        }
        let row = Row(
            name: try PackageName(parsing: "bind9"), architecture: try Architecture(parsing: "amd64"),
            pin: try PackagePin(parsing: "bind9=1:9.18.28-1~deb12u2")
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(row), as: UTF8.self)
        #expect(json == #"{"architecture":"amd64","name":"bind9","pin":"bind9=1:9.18.28-1~deb12u2"}"#)
        #expect(try JSONDecoder().decode(Row.self, from: Data(json.utf8)) == row)
    }

    @Test(arguments: [
        (#"{"name":"Bind9","architecture":"amd64","pin":"a0=1"}"#, #"invalid package name "Bind9": contains uppercase letter "B"; package names are lowercase"#),
        (#"{"name":"bind9","architecture":"x86_64","pin":"a0=1"}"#, #"invalid architecture "x86_64": contains invalid character "_"; "# + architectureCharacters),
        (#"{"name":"bind9","architecture":"amd64","pin":"a0"}"#, #"invalid package pin "a0": expected name=version"#),
    ])
    func decodingInvalidTextIsDataCorruptedWithTheMessage(json: String, message: String) {
        struct Row: Decodable {
            var name: PackageName
            var architecture: Architecture
            var pin: PackagePin
        }
        let error = #expect(throws: DecodingError.self) { try JSONDecoder().decode(Row.self, from: Data(json.utf8)) }
        guard case .dataCorrupted(let context)? = error else {
            Issue.record("expected dataCorrupted, got \(String(describing: error))")
            return
        }
        #expect(context.debugDescription == message)
    }
}
