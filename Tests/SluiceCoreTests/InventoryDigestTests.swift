import Foundation
import SluiceCore
import Testing

/// The digest agents send and controllers store: its bytes must never change (stored digests
/// must keep matching), and it must survive the report's trip through JSON.
@Suite("Inventory digest")
struct InventoryDigestTests {
    static func report() throws -> InventoryReport {
        InventoryReport(
            agentVersion: "0.1.0", os: OSRelease(id: "debian", versionID: "12", versionCodename: nil, prettyName: "Debian GNU/Linux 12"),
            installed: [
                InstalledPackage(
                    name: try PackageName(parsing: "bind9"), architecture: try Architecture(parsing: "amd64"),
                    version: try DebianVersion(parsing: "1:9.18.24-1"), status: "install ok installed")
            ],
            candidates: [
                UpgradeCandidate(
                    name: try PackageName(parsing: "bind9"), architecture: try Architecture(parsing: "amd64"),
                    installedVersion: try DebianVersion(parsing: "1:9.18.24-1"), candidateVersion: try DebianVersion(parsing: "1:9.18.28-1~deb12u2"),
                    origins: [PackageOrigin(origin: "Debian", label: "Debian-Security", archive: "stable-security")])
            ],
            rebootRequired: true, rebootRequiredPackages: ["libc6"], unattendedUpgrades: UnattendedUpgradesStatus(enabled: nil, detail: "unknown"),
            labels: try Labels(validating: ["role": "dns"]))
    }

    /// The value was computed apart from this code, from the stream its documentation describes
    /// (a few lines of Python over `hashlib.sha256`).
    @Test func theDigestOfAKnownReportIsPinned() throws {
        #expect(InventoryDigest.hex(of: try Self.report()) == "5972628413542e9f6da9ed4688ae99ebd379ce1deacf74a81b0884c9e8348897")
    }

    @Test func theDigestSurvivesTheReportsTripThroughJSON() throws {
        let report = try Self.report()
        let decoded = try JSONDecoder().decode(InventoryReport.self, from: try JSONEncoder().encode(report))
        #expect(InventoryDigest.hex(of: decoded) == InventoryDigest.hex(of: report))
    }

    @Test func onlyLowercaseHexOfTheRightLengthIsWellFormed() throws {
        let digest = InventoryDigest.hex(of: try Self.report())
        #expect(InventoryDigest.isWellFormed(digest))
        for bad in ["", String(digest.dropLast()), digest + "0", digest.uppercased(), "g" + String(digest.dropFirst()), " " + String(digest.dropFirst()), "é" + String(digest.dropFirst(2))] {
            #expect(!InventoryDigest.isWellFormed(bad), "\(bad)")
        }
    }
}
