import Foundation

/// A `debootstrap --variant=minbase` root of this machine's Debian release, built once per
/// machine (about 30 s) and cached under `/var/tmp/sluice-test-chroot-<hash>`; each test gets
/// its own copy (`cp -a`, about a second), so tests never share a dpkg database.
///
/// The cached root is prepared for the tests: its only apt source is the local fixture
/// repository at `/srv/sluice-repo` (`[trusted=yes]`, copied in per test), apt runs as root
/// without a sandbox user, and apt's cache is empty.
enum DebianChroot {
    /// Bump when the recipe changes, so a stale cache is not reused.
    static let recipe = "3"

    static var suite: String {
        let release = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        for line in release.split(separator: "\n") where line.hasPrefix("VERSION_CODENAME=") {
            let value = line.dropFirst("VERSION_CODENAME=".count).filter { $0 != "\"" }
            if !value.isEmpty { return String(value) }
        }
        return "bookworm"
    }

    /// The Debian mirror this machine's own apt sources use.
    static var mirror: String {
        var files = ["/etc/apt/sources.list"]
        let directory = "/etc/apt/sources.list.d"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".sources") || name.hasSuffix(".list") {
            files.append(directory + "/" + name)
        }
        for file in files {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                let candidates = words.filter { $0.hasPrefix("http") && $0.hasSuffix("/debian") }
                if let uri = candidates.first, !line.hasPrefix("#") { return String(uri) }
            }
        }
        return "http://deb.debian.org/debian"
    }

    /// The cached template, built on first use (guarded by a file lock across tests and test processes).
    static func template() async throws -> String {
        let inputs = [recipe, suite, mirror, "minbase"]
        let path = "/var/tmp/sluice-test-chroot-" + stableHash(inputs)
        if FileManager.default.fileExists(atPath: path + "/etc/apt/apt.conf.d/99sluice-test") { return path }
        do {
            return try await withFileLock("/var/tmp/sluice-test-chroot.lock") {
                if FileManager.default.fileExists(atPath: path + "/etc/apt/apt.conf.d/99sluice-test") { return path }
                let building = path + ".building"
                try? FileManager.default.removeItem(atPath: building)
                try await host(["debootstrap", "--variant=minbase", suite, building, mirror])
                try "deb [trusted=yes] file:/srv/sluice-repo ./\n".write(toFile: building + "/etc/apt/sources.list", atomically: true, encoding: .utf8)
                try """
                    APT::Sandbox::User "root";
                    Acquire::Languages "none";
                    Dir::Cache::pkgcache "";
                    """.write(toFile: building + "/etc/apt/apt.conf.d/99sluice-test", atomically: true, encoding: .utf8)
                try await host(["chroot", building, "apt-get", "clean"])
                try? FileManager.default.removeItem(atPath: building + "/var/lib/apt/lists")
                try FileManager.default.createDirectory(atPath: building + "/var/lib/apt/lists/partial", withIntermediateDirectories: true)
                try FileManager.default.moveItem(atPath: building, toPath: path)
                return path
            }
        } catch let error as HostCommandError {
            throw error
        } catch {
            throw HostCommandError(description: "cannot build the test chroot: \(error)")
        }
    }
}
