import SluiceCore

/// Small, valid domain values for tests across targets.
public enum Fixtures {
    public static func host(_ id: String) -> HostID { try! HostID(parsing: id) }

    public static func labels(_ values: [String: String]) -> Labels { try! Labels(validating: values) }

    public static func report(candidates: [(String, String, String, Bool)] = [("bind9", "1:9.18.24-1", "1:9.18.28-1~deb12u2", true)]) -> InventoryReport {
        InventoryReport(
            agentVersion: "0.1.0",
            os: OSRelease(id: "debian", versionID: "12", versionCodename: "bookworm", prettyName: "Debian GNU/Linux 12 (bookworm)"),
            installed: candidates.map { name, installed, _, _ in
                InstalledPackage(
                    name: try! PackageName(parsing: name), architecture: try! Architecture(parsing: "amd64"),
                    version: try! DebianVersion(parsing: installed), status: "install ok installed")
            },
            candidates: candidates.map { name, installed, candidate, security in
                UpgradeCandidate(
                    name: try! PackageName(parsing: name), architecture: try! Architecture(parsing: "amd64"),
                    installedVersion: try! DebianVersion(parsing: installed), candidateVersion: try! DebianVersion(parsing: candidate),
                    origins: [
                        security
                            ? PackageOrigin(origin: "Debian", label: "Debian-Security", archive: "stable-security", codename: "bookworm-security", component: "main", site: "deb.debian.org")
                            : PackageOrigin(origin: "Debian", label: "Debian", archive: "stable-updates", codename: "bookworm-updates", component: "main", site: "deb.debian.org")
                    ])
            },
            rebootRequired: false, rebootRequiredPackages: [],
            unattendedUpgrades: UnattendedUpgradesStatus(enabled: false, detail: "unattended-upgrades not installed"))
    }
}
