import SluiceAgent
import SluiceCore
import Testing

@Suite("dpkg-query -W output")
struct DpkgQueryParserTests {
    private func package(_ packages: [InstalledPackage], _ name: String, _ arch: String) -> InstalledPackage? {
        packages.first { $0.name.rawValue == name && $0.architecture.rawValue == arch }
    }

    @Test("the argument vector asks for package, architecture, version and status separated by real tabs")
    func argumentVectorUsesRealTabsAndNewline() {
        #expect(DpkgQueryParser.arguments == ["-W", "-f=${Package}\t${Architecture}\t${Version}\t${Status}\n"])
    }

    @Test("bookworm output keeps installed, held and half-configured packages and drops those without an installed version")
    func keepsInstalledStatesAndDropsAbsentOnes() throws {
        let packages = try DpkgQueryParser.parse(DebianFixtures.bookwormDpkg)
        #expect(packages.count == 12)
        #expect(package(packages, "oldconf", "amd64") == nil, "config-files only: nothing installed")
        #expect(package(packages, "ghost", "amd64") == nil, "not-installed")
        #expect(package(packages, "brokenpkg", "amd64")?.status == "install ok half-configured")
        #expect(package(packages, "heldpkg", "amd64")?.status == "hold ok installed")
        #expect(package(packages, "legacy-agent", "amd64")?.status == "install ok installed")
    }

    @Test("both architectures of a multi-arch package are separate entries")
    func multiArchPackagesAreSeparate() throws {
        let packages = try DpkgQueryParser.parse(DebianFixtures.bookwormDpkg)
        let amd64 = try #require(package(packages, "libc6", "amd64"))
        let i386 = try #require(package(packages, "libc6", "i386"))
        #expect(amd64.version == i386.version)
        #expect(amd64.key != i386.key)
        #expect(package(packages, "tzdata", "all")?.version.description == "2024a-0+deb12u1")
    }

    @Test("epochs are parsed and ordered: 1:9.18.28-1~deb12u2 is newer than any epoch-0 version")
    func epochsAreParsed() throws {
        let packages = try DpkgQueryParser.parse(DebianFixtures.bookwormDpkg)
        let held = try #require(package(packages, "heldpkg", "amd64"))
        #expect(held.version.epoch == 1)
        #expect(held.version.upstream == "9.18.28")
        #expect(held.version.revision == "1~deb12u2")
        #expect(try DebianVersion(parsing: "99.0") < held.version)
        #expect(package(packages, "sluice-demo-tool", "amd64")?.version.epoch == 2)
    }

    @Test("the development host's own output parses line for line")
    func hostOutputParses() throws {
        let packages = try DpkgQueryParser.parse(DebianFixtures.hostDpkg + "\n")
        #expect(packages.map(\.name.rawValue) == [
            "adduser", "apt", "base-files", "bash", "dpkg", "libc6", "libssl3", "openssh-client", "tzdata", "zlib1g",
        ])
        #expect(package(packages, "openssh-client", "amd64")?.version.description == "1:9.2p1-2+deb12u6")
    }

    @Test("empty output is an empty list, and blank lines and CRLF endings are tolerated")
    func emptyAndBlankLines() throws {
        #expect(try DpkgQueryParser.parse("").isEmpty)
        let packages = try DpkgQueryParser.parse("\nbash\tamd64\t5.2.15-2+b8\tinstall ok installed\r\n\n")
        #expect(packages.count == 1)
        #expect(packages.first?.status == "install ok installed")
    }

    @Test(
        "malformed lines are refused with the line number, never skipped or trapped on",
        arguments: [
            ("bash\tamd64\t5.2.15-2+b8\tinstall ok installed\ngarbage without tabs", "dpkg-query line 2: expected 4 tab-separated fields, found 1"),
            ("libssl3\tamd64\t3.0.11", "dpkg-query line 1: expected 4 tab-separated fields, found 3"),
            ("a\tb\tc\td\te", "dpkg-query line 1: expected 4 tab-separated fields, found 5"),
            ("bash\tamd64\t5.2\tinstall ok", "dpkg-query line 1: malformed status \"install ok\""),
            ("bash\tamd64\t5.2\tinstall ok exploded", "dpkg-query line 1: malformed status"),
            ("foo;rm -rf /\tamd64\t1.0\tinstall ok installed", "dpkg-query line 1: invalid package name \"foo;rm -rf /\""),
            ("$(reboot)\tamd64\t1.0\tinstall ok installed", "dpkg-query line 1: invalid package name \"$(reboot)\""),
            ("bash\tamd64`id`\t1.0\tinstall ok installed", "dpkg-query line 1: invalid architecture"),
            ("bash\tamd64\t1.0 && reboot\tinstall ok installed", "dpkg-query line 1: invalid version"),
            ("bash\tamd64\t\tinstall ok installed", "dpkg-query line 1: invalid version \"\""),
            ("bash\tamd64\t1.0\tinstall ok installed\nbash\tamd64\t1.1\tinstall ok installed", "dpkg-query line 2: bash:amd64 is listed twice"),
        ]
    )
    func malformedLinesAreRefused(output: String, message: String) {
        #expect {
            try DpkgQueryParser.parse(output)
        } throws: { error in
            (error as? InventoryParseError)?.description.hasPrefix(message) == true
        }
    }

    @Test("an absurdly long line is refused by length before anything else is looked at")
    func absurdlyLongLineIsRefused() {
        let line = String(repeating: "a", count: 200_000) + "\tamd64\t1.0\tinstall ok installed"
        #expect {
            try DpkgQueryParser.parse(line)
        } throws: { error in
            let text = (error as? InventoryParseError)?.description ?? ""
            return text.hasPrefix("dpkg-query line 1: line is 200031 bytes long; the limit is") && text.utf8.count < 200
        }
    }

    @Test("control characters in a refused line are escaped, so the message stays one line")
    func refusedLineMessageStaysOneLine() throws {
        let error = try #require(throws: InventoryParseError.self) {
            try DpkgQueryParser.parse("evil\u{1B}[2J\nname\tamd64\t1.0\tinstall ok installed")
        }
        #expect(!error.description.contains("\u{1B}"))
        #expect(!error.description.contains("\n"))
    }
}
