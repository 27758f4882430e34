import SluiceCore
import Testing

@testable import SluiceYAML

@Suite("apt.conf reading")
struct AptConfigurationTests {
    @Test func scopesListsAndPairsReadAsAptReadsThem() throws {
        let text = """
            # a comment line
            Unattended-Upgrade::Allowed-Origins {
                "${distro_id}:${distro_codename}";   // trailing comment
            /*  "commented:out"; */
                "Debian:bookworm-security";
            };
            Unattended-Upgrade {
                Automatic-Reboot "true";
                Mail { Report "on-change"; };
            };
            APT::Periodic::Unattended-Upgrade 1;
            Dpkg::Options {"--force-confdef"; "--force-confold"};
            Acquire::http::Dl-Limit "70";  # apt takes # as a comment too
            """
        let config = try AptConfiguration.parse(text, file: "f")
        #expect(config.list("unattended-upgrade::allowed-origins").map(\.value) == ["${distro_id}:${distro_codename}", "Debian:bookworm-security"])
        #expect(config.list("Unattended-Upgrade::Allowed-Origins").map(\.line) == [3, 5])
        #expect(config.scalar("Unattended-Upgrade::Automatic-Reboot")?.value == "true")
        #expect(config.scalar("Unattended-Upgrade::Mail::Report")?.value == "on-change")
        #expect(config.scalar("APT::Periodic::Unattended-Upgrade")?.value == "1")
        #expect(config.list("Dpkg::Options").map(\.value) == ["--force-confdef", "--force-confold"])
        #expect(config.scalar("Acquire::http::Dl-Limit")?.value == "70")
    }

    @Test func quotedStringsKeepBackslashesCommentMarkersAndSpaces() throws {
        let config = try AptConfiguration.parse(
            #"X { "libstdc\+\+6$"; "origin=Google\, Inc.,suite=contrib"; "http://a//b # not a comment"; "a%20b"; };"#, file: "f")
        #expect(config.list("X").map(\.value) == [#"libstdc\+\+6$"#, #"origin=Google\, Inc.,suite=contrib"#, "http://a//b # not a comment", "a b"])
    }

    @Test func laterValuesWinAndClearEmptiesAList() throws {
        let text = """
            A::B "1";
            A::B "2";
            L { "x"; "y"; };
            #clear L;
            L { "z"; };
            #include "/etc/apt/other.conf";
            """
        let config = try AptConfiguration.parse(text, file: "f")
        #expect(config.scalar("A::B")?.value == "2")
        #expect(config.list("L").map(\.value) == ["z"])
        #expect(config.includes == [AptConfiguration.Include(path: "/etc/apt/other.conf", line: 6)])
    }

    @Test(arguments: [
        ("A \"x\";\n\"unterminated;\n", "f:2: unterminated quoted string: a closing \" is missing on this line"),
        ("A {\n  B \"v\";\n", "f:1: the block \"A\" opened here is never closed: a } is missing"),
        ("A \"v\";\n};\n", "f:2: } closes no block"),
        ("A \"v\" \"w\";", "f:1: extra text after the value \"v\": \"w\" (a missing ;?)"),
        ("A \"v\"\nB \"w\";", "f:1: extra text after the value \"v\": \"B w\" (a missing ;?)"),
        ("A \"v\"", "f:1: \"A v\" is not ended by ; at the end of the file"),
        ("{ \"v\"; };", "f:1: a block starts with no name before {"),
        ("\"lonely\";", "f:1: \"lonely\" has no value: expected Key \"value\"; or a list inside Key { ... };"),
        ("/* open\n\n", "f:1: unterminated comment: the /* opened here has no */"),
        ("A { #clear B; };", "f:1: directives can only be given at the top level"),
    ])
    func malformedTextIsRefusedWithItsLine(text: String, message: String) {
        #expect(throws: InvalidInput(message)) { try AptConfiguration.parse(text, file: "f") }
    }

    @Test func anErrorIsOneLine() {
        do {
            _ = try AptConfiguration.parse("A {\n\"x\nB \"y\";\n};", file: "50unattended-upgrades")
            Issue.record("parsed")
        } catch {
            #expect(!error.message.contains("\n"))
            #expect(error.message.hasPrefix("50unattended-upgrades:2: "))
        }
    }
}
