#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SluiceCore

/// The .deb files of the versions installed before an apply, kept in `rollback/ASSIGNMENT/`
/// in the agent's state directory: until the assignment ends, and after it while the host is
/// on the new versions, for a revert, as long as the controller lists the assignment among
/// those to keep (its rollout runs, or ended less than `saved_package_retention` ago).
///
/// Each package comes from apt's cache if the .deb is still there, else `apt-get download`
/// of the exact installed version, else `dpkg-repack` (which rebuilds it from the installed
/// files) when that tool is installed. Every file is checked with `dpkg-deb -f` before it counts.
struct RollbackArchive: Sendable {
    let root: HostRoot
    /// The agent's state directory as a path inside the root, where `apt-get download` and
    /// `dpkg-repack` write (on a host, whose root is `/`, the state directory itself).
    let stateDirectory: String
    let assignmentID: String

    /// Where every assignment's directory is, inside the root.
    static func baseDirectory(in stateDirectory: String) -> String { stateDirectory + "/rollback" }

    /// The directory inside the root.
    var directory: String { "\(Self.baseDirectory(in: stateDirectory))/\(assignmentID)" }

    /// Saves one .deb per package.
    /// - Parameter packages: the installed packages the apply will change.
    /// - Throws: ``ApplyFailure`` (preflight failed) naming the first package that cannot be saved.
    func save(_ packages: [InstalledPackage]) async throws(ApplyFailure) -> [SavedPackage] {
        discard()
        do { try makeDirectory(root.file(directory)) } catch { throw ApplyFailure(.preflightFailed, error.message) }
        var saved: [SavedPackage] = []
        for package in packages {
            var tried: [String] = []
            if copyFromCache(package), let file = await verified(package, source: "apt cache") {
                saved.append(file)
                continue
            }
            tried.append("not in apt's cache")
            let download = await root.outcome(
                ["env", "--chdir=\(directory)", "apt-get", "download", "-q", "--", "\(package.name):\(package.architecture)=\(package.version)"],
                environment: AptCommands.environment, timeout: .seconds(600))
            if download.status == 0, let file = await verified(package, source: "apt-get download") {
                saved.append(file)
                continue
            }
            tried.append("apt-get download: \(keyLine(download))")
            if exists(root.file("/usr/bin/dpkg-repack")) {
                let repack = await root.outcome(["env", "--chdir=\(directory)", "dpkg-repack", "--", package.name.rawValue], timeout: .seconds(600))
                if repack.status == 0, let file = await verified(package, source: "dpkg-repack") {
                    saved.append(file)
                    continue
                }
                tried.append("dpkg-repack: \(keyLine(repack))")
            } else {
                tried.append("dpkg-repack is not installed")
            }
            throw ApplyFailure(.preflightFailed, "cannot save \(package.name) \(package.version) for rollback (\(tried.joined(separator: "; ")))")
        }
        return saved
    }

    /// Removes the directory and everything in it.
    func discard() {
        try? FileManager.default.removeItem(atPath: root.file(directory))
    }

    /// Removes every other assignment's directory but those of `keeping` (assignment ids).
    func removeOthers(keeping: Set<String>) {
        let base = root.file(Self.baseDirectory(in: stateDirectory))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] where name != assignmentID && !keeping.contains(name) {
            try? FileManager.default.removeItem(atPath: base + "/" + name)
        }
    }

    /// The saved .deb of exactly `name` at `version` in this assignment's directory, checked
    /// with `dpkg-deb -f`; nil when there is none.
    func savedPackage(_ name: PackageName, version: DebianVersion) async -> SavedPackage? {
        await find(name.rawValue, version: version.description, source: "saved by assignment \(assignmentID)")
    }

    private func copyFromCache(_ package: InstalledPackage) -> Bool {
        // apt's cache names files name_version_arch.deb with ":" escaped as "%3a".
        let version = package.version.description.replacingOccurrences(of: ":", with: "%3a")
        let name = "\(package.name)_\(version)_\(package.architecture).deb"
        let cached = root.file("/var/cache/apt/archives/" + name)
        return exists(cached) && (try? FileManager.default.copyItem(atPath: cached, toPath: root.file(directory + "/" + name))) != nil
    }

    /// Finds the .deb of `package` in the directory and checks its control fields.
    private func verified(_ package: InstalledPackage, source: String) async -> SavedPackage? {
        await find(package.name.rawValue, version: package.version.description, source: source)
    }

    private func find(_ name: String, version: String, source: String) async -> SavedPackage? {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: root.file(directory))) ?? []
        for file in files.sorted() where file.hasPrefix("\(name)_") && file.hasSuffix(".deb") {
            let path = directory + "/" + file
            let fields = await root.outcome(["dpkg-deb", "-f", "--", path, "Package", "Version"], timeout: .seconds(60))
            let text = fields.stdout
            if fields.status == 0, text.contains("Package: \(name)\n"), text.contains("Version: \(version)\n") {
                return SavedPackage(name: name, version: version, path: path, source: source)
            }
        }
        return nil
    }
}
