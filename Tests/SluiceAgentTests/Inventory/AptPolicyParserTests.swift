import SluiceAgent
import SluiceCore
import Testing

@Suite("apt-cache policy output")
struct AptPolicyParserTests {
    static let bookwormSecurity = "http://deb.debian.org/debian-security bookworm-security/main amd64 Packages"
    static let bookwormMain = "http://deb.debian.org/debian bookworm/main amd64 Packages"
    static let bookwormUpdatesI386 = "http://deb.debian.org/debian bookworm-updates/main i386 Packages"
    static let flatRepository = "file:/tmp/aptroot/repo/ppa ./ Packages"

    private func source(_ sources: [AptSource], _ description: String) throws -> AptSource {
        try #require(sources.first { $0.description == description })
    }

    @Test("bookworm: every package file is read with priority, release fields and site; pins are ignored")
    func bookwormSources() throws {
        let sources = AptPolicyParser.parseSources(DebianFixtures.bookwormPolicy)
        #expect(sources.count == 7)
        let security = try source(sources, Self.bookwormSecurity)
        #expect(security.priority == 500)
        #expect(security.releaseVersion == "12")
        #expect(security.indexArchitecture == "amd64")
        #expect(security.origin == PackageOrigin(
            origin: "Debian", label: "Debian-Security", archive: "oldstable-security", codename: "bookworm-security",
            component: "main", site: "deb.debian.org"
        ))
        #expect(security.origin.isSecurity)
        let updates = try source(sources, Self.bookwormUpdatesI386)
        #expect(updates.origin == PackageOrigin(
            origin: "Debian", label: "Debian", archive: "oldstable-updates", codename: "bookworm-updates",
            component: "main", site: "deb.debian.org"
        ))
        #expect(!updates.origin.isSecurity)
        #expect(try source(sources, "/tmp/aptroot/var/lib/dpkg/status").origin == PackageOrigin(archive: "now"))
    }

    @Test("a file: source without an origin line, whose label holds a comma and whose component is empty")
    func flatFileRepository() throws {
        let sources = AptPolicyParser.parseSources(DebianFixtures.bookwormPolicy)
        let ppa = try source(sources, Self.flatRepository)
        #expect(ppa.origin == PackageOrigin(
            origin: "LP-PPA-sluice-demo", label: "Sluice Demo Tools, nightly", archive: "jammy", codename: "jammy",
            component: nil, site: nil
        ))
        #expect(ppa.releaseVersion == "22.04")
        #expect(ppa.indexArchitecture == nil)
    }

    @Test(
        "release fields with spaces and commas split only where apt's next key starts",
        arguments: [
            ("v=11.0,o=Debian Backports,a=bullseye-backports,n=bullseye-backports,l=Debian Backports,c=main,b=amd64",
             PackageOrigin(origin: "Debian Backports", label: "Debian Backports", archive: "bullseye-backports",
                           codename: "bullseye-backports", component: "main")),
            ("v=22.04,o=LP-PPA-foo,a=jammy,n=jammy,l=Foo, the PPA, c=stuff,c=main,b=amd64",
             PackageOrigin(origin: "LP-PPA-foo", label: "Foo, the PPA, c=stuff", archive: "jammy", codename: "jammy",
                           component: "main")),
            ("o=Weird,Origin,a=x,l=Ubuntu,c=main",
             PackageOrigin(origin: "Weird,Origin", label: "Ubuntu", archive: "x", component: "main")),
            ("a=now", PackageOrigin(archive: "now")),
            ("o=,a=,l=", PackageOrigin()),
        ]
    )
    func releaseFieldSplitting(fields: String, expected: PackageOrigin) {
        let text = "Package files:\n 500 http://example.org/repo x/main amd64 Packages\n     release \(fields)\n"
        #expect(AptPolicyParser.parseSources(text).first?.origin == expected)
    }

    @Test("originsBySource leaves out dpkg's status file and keeps every archive")
    func originsBySourceSkipsStatusFile() {
        let map = AptPolicyParser.originsBySource(AptPolicyParser.parseSources(DebianFixtures.hostPolicy))
        #expect(map.count == 3)
        #expect(map["/var/lib/dpkg/status"] == nil)
        #expect(map[Self.bookwormSecurity]?.label == "Debian-Security")
        #expect(map[Self.bookwormMain]?.archive == "oldstable")
    }

    @Test("Ubuntu: -security is marked by its archive while the codename stays the release's")
    func ubuntuSources() throws {
        let jammy = AptPolicyParser.parseSources(UbuntuFixtures.jammyPolicy)
        let security = try source(jammy, "http://security.ubuntu.com/ubuntu jammy-security/main amd64 Packages")
        #expect(security.origin == PackageOrigin(
            origin: "Ubuntu", label: "Ubuntu", archive: "jammy-security", codename: "jammy", component: "main",
            site: "security.ubuntu.com"
        ))
        #expect(security.origin.isSecurity)
        let updates = try source(jammy, "http://archive.ubuntu.com/ubuntu jammy-updates/main amd64 Packages")
        #expect(!updates.origin.isSecurity)
        let backports = try source(jammy, "http://archive.ubuntu.com/ubuntu jammy-backports/universe amd64 Packages")
        #expect(backports.priority == 100 && backports.origin.component == "universe")
        let ppa = try source(jammy, "https://ppa.launchpadcontent.net/deadsnakes/ppa/ubuntu jammy/main amd64 Packages")
        #expect(ppa.origin.origin == "LP-PPA-deadsnakes" && ppa.origin.label == "New Python Versions")
        #expect(ppa.origin.site == "ppa.launchpadcontent.net")
        #expect(AptPolicyParser.parseSources(UbuntuFixtures.noblePolicy).filter(\.origin.isSecurity).count == 2)
    }

    @Test("per-package tables: installed and candidate, *** marker, foreign-architecture headers")
    func bookwormPackageTables() throws {
        let packages = AptPolicyParser.parsePackages(DebianFixtures.bookwormPackagePolicy)
        #expect(packages.map(\.aptName) == [
            "gcc-12-base", "gcc-12-base:i386", "libc6", "libc6:i386", "libcap2", "libcap2:i386", "libgcrypt20",
            "zlib1g", "tzdata", "libssl3", "openssh-client", "sluice-demo-tool",
        ])
        let libc = try #require(packages.first { $0.aptName == "libc6:i386" })
        #expect(libc.qualifier?.rawValue == "i386")
        #expect(libc.installed?.description == "2.36-9+deb12u4")
        #expect(libc.candidate?.description == "2.36-9+deb12u14")
        #expect(libc.versions.filter(\.isInstalled).map(\.version.description) == ["2.36-9+deb12u4"])
        #expect(libc.sources(of: try #require(libc.candidate)) == ["http://deb.debian.org/debian bookworm/main i386 Packages"])
        let gcc = try #require(packages.first { $0.aptName == "gcc-12-base" })
        #expect(gcc.installed == nil)
        let gcrypt = try #require(packages.first { $0.aptName == "libgcrypt20" })
        #expect(gcrypt.sources(of: try #require(gcrypt.candidate)) == [Self.bookwormMain, Self.bookwormSecurity])
        let ssh = try #require(packages.first { $0.aptName == "openssh-client" })
        #expect(ssh.candidate?.description == "1:9.2p1-2+deb12u7", "pinned: the newest version is not the candidate")
        #expect(ssh.versions.count == 4)
        let tool = try #require(packages.first { $0.aptName == "sluice-demo-tool" })
        #expect(tool.sources(of: try #require(tool.candidate)) == [Self.flatRepository])
    }

    @Test("a phased-update row still yields its version and sources")
    func phasedUpdateRow() throws {
        let packages = AptPolicyParser.parsePackages(UbuntuFixtures.jammyPackagePolicy)
        let snapd = try #require(packages.first { $0.aptName == "snapd" })
        #expect(snapd.sources(of: try #require(snapd.candidate)) == [
            "http://archive.ubuntu.com/ubuntu jammy-updates/main amd64 Packages",
        ])
        #expect(snapd.versions.count == 3)
    }

    @Test("unreadable headers, versions and lines are skipped without taking their neighbours down")
    func hostileInputIsSkipped() throws {
        let output = """
            BAD NAME;rm -rf /:
              Installed: 1.0
              Version table:
                 1.1 500
                    500 http://evil.example/ x/main amd64 Packages
            garbage line with no colon at the end
            good:
              Installed: (none)
              Candidate: not a version!
              Version table:
                 not a version! 500
                    500 http://evil.example/ y/main amd64 Packages
                 2.0 500
                    500 http://example.org/ z/main amd64 Packages
                    \(String(repeating: "x", count: 100_000))
                    500
            truncated-at-end:
              Installed: 1.0-
            """
        let packages = AptPolicyParser.parsePackages(output)
        #expect(packages.map(\.aptName) == ["good", "truncated-at-end"])
        let good = try #require(packages.first)
        #expect(good.candidate == nil)
        #expect(good.versions.map(\.version.description) == ["2.0"])
        #expect(good.versions.first?.sources == ["http://example.org/ z/main amd64 Packages"])
        #expect(packages.last?.installed == nil)
        #expect(AptPolicyParser.parseSources("\u{0}\u{1B}garbage\n  release o=x\n 5x0 nothing").isEmpty)
    }
}
