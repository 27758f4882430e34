import Foundation

/// The fixture packages, built with gcc and `dpkg-deb` into a flat `file:` apt repository,
/// once per machine (cached under `/var/tmp/sluice-test-repo-<hash of this recipe>`).
///
/// `resolverd` is a tiny DNS server standing in for bind9 (the fleet lab's, from
/// `scripts/fleet-lab.d/resolverd.c`): a static C program that answers
/// every A query on 127.0.0.1:PORT (from `/etc/resolverd.conf`, a conffile) with 127.0.0.N,
/// where N is its major version, so a probe tells which binary answered. It daemonizes, writes
/// `/run/resolverd.pid`, and appends a line to `/var/lib/resolverd-starts` at each start.
/// `resolverd --check` is its config checker (bind's `named-checkconf`); its init script starts
/// and stops it; its postinst restarts it through `invoke-rc.d`, so `policy-rc.d` is honoured.
///
/// | version | what it is |
/// |---|---|
/// | 1.0-1 | the running version; accepts `dnssec-enable` |
/// | 2.0-1 | rejects `dnssec-enable` (like bind 9.18) and depends on a new `resolverd-common` |
/// | 2.1-1 | starts and validates, but never answers (health fails after restart) |
/// | 2.2-1 | its postinst fails |
/// | 2.3-1 | depends on `libmissing-fixture`, which no repository has |
/// | 2.4-1 | conflicts with `resolverd-legacy` (1.0-1, also in the repository): apt must remove it |
enum FixtureRepository {
    struct Variant {
        var version: String
        var major: Int
        var cflags: [String] = []
        var depends: String? = nil
        var postinstFails = false
        var conflicts: String? = nil
    }

    static let variants = [
        Variant(version: "1.0-1", major: 1),
        Variant(version: "2.0-1", major: 2, cflags: ["-DREJECT_DNSSEC_ENABLE"], depends: "resolverd-common (= 2.0-1)"),
        Variant(version: "2.1-1", major: 2, cflags: ["-DSILENT"]),
        Variant(version: "2.2-1", major: 2, postinstFails: true),
        Variant(version: "2.3-1", major: 2, depends: "libmissing-fixture"),
        Variant(version: "2.4-1", major: 2, conflicts: "resolverd-legacy"),
    ]

    /// The repository directory, built on first use.
    static func directory() async throws -> String {
        let path = "/var/tmp/sluice-test-repo-" + stableHash([try source, initScript, postinst, "\(variants.count)", "3"])
        if FileManager.default.fileExists(atPath: path + "/Packages") { return path }
        do {
            return try await withFileLock("/var/tmp/sluice-test-repo.lock") {
                if FileManager.default.fileExists(atPath: path + "/Packages") { return path }
                let building = path + ".building"
                try? FileManager.default.removeItem(atPath: building)
                try await build(into: building)
                try FileManager.default.moveItem(atPath: building, toPath: path)
                return path
            }
        } catch let error as HostCommandError {
            throw error
        } catch {
            throw HostCommandError(description: "cannot build the fixture repository: \(error)")
        }
    }

    private static func build(into repository: String) async throws {
        let work = repository + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try (try source).write(toFile: work + "/resolverd.c", atomically: true, encoding: .utf8)
        for variant in variants {
            let tree = work + "/resolverd-\(variant.version)"
            try write(tree + "/DEBIAN/control", control(
                "resolverd", variant.version, architecture: "amd64", depends: variant.depends, conflicts: variant.conflicts))
            try write(tree + "/DEBIAN/conffiles", "/etc/resolverd.conf\n")
            try write(tree + "/DEBIAN/postinst", variant.postinstFails ? failingPostinst : postinst, mode: 0o755)
            try write(tree + "/DEBIAN/prerm", prerm, mode: 0o755)
            try write(tree + "/etc/resolverd.conf", "# resolverd configuration\nport 53\n")
            try write(tree + "/etc/init.d/resolverd", initScript, mode: 0o755)
            try FileManager.default.createDirectory(atPath: tree + "/usr/sbin", withIntermediateDirectories: true)
            try await host(["gcc", "-static", "-O1", "-Wall", "-Werror", "-DVERSION=\(variant.major)"] + variant.cflags
                + ["-o", tree + "/usr/sbin/resolverd", work + "/resolverd.c"])
            try await host(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", tree, repository])
        }
        let common = work + "/resolverd-common"
        try write(common + "/DEBIAN/control", control("resolverd-common", "2.0-1", architecture: "all", depends: nil))
        try write(common + "/usr/share/doc/resolverd-common/README", "shared data of resolverd 2\n")
        try await host(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", common, repository])
        let legacy = work + "/resolverd-legacy"
        try write(legacy + "/DEBIAN/control", control("resolverd-legacy", "1.0-1", architecture: "all", depends: nil))
        try write(legacy + "/usr/share/doc/resolverd-legacy/README", "compatibility files that resolverd 2.4 replaces\n")
        try await host(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", legacy, repository])
        try FileManager.default.removeItem(atPath: work)
        let index = try await host(["dpkg-scanpackages", "-m", repository])
            .replacingOccurrences(of: "Filename: " + repository + "/", with: "Filename: ./")
        try write(repository + "/Packages", index)
    }

    private static func control(_ name: String, _ version: String, architecture: String, depends: String?, conflicts: String? = nil) -> String {
        var text = "Package: \(name)\nVersion: \(version)\nArchitecture: \(architecture)\nMaintainer: Sluice tests <tests@sluice.invalid>\n"
        if let depends { text += "Depends: \(depends)\n" }
        if let conflicts { text += "Conflicts: \(conflicts)\n" }
        return text + "Section: net\nPriority: optional\nDescription: Sluice apply-test fixture\n a tiny DNS server standing in for bind9\n"
    }

    private static func write(_ path: String, _ text: String, mode: Int = 0o644) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    static let postinst = """
        #!/bin/sh
        set -e
        if [ "$1" = configure ]; then
            if [ -n "$2" ]; then invoke-rc.d resolverd restart; else invoke-rc.d resolverd start; fi
            # Stay a moment in the middle of dpkg's run, where the crash tests cut the power.
            sleep 0.3
        fi
        exit 0

        """

    static let failingPostinst = """
        #!/bin/sh
        echo "resolverd postinst: cannot migrate the zone cache (fixture failure)" >&2
        exit 1

        """

    static let prerm = """
        #!/bin/sh
        set -e
        if [ "$1" = remove ]; then invoke-rc.d resolverd stop || true; fi
        exit 0

        """

    /// Stops by SIGTERM and waits for the daemon to remove its pid file (no /proc needed).
    static let initScript = """
        #!/bin/sh
        ### BEGIN INIT INFO
        # Provides:          resolverd
        # Required-Start:    $remote_fs
        # Required-Stop:     $remote_fs
        # Default-Start:     2 3 4 5
        # Default-Stop:      0 1 6
        # Short-Description: Sluice test DNS server
        ### END INIT INFO
        PIDFILE=/run/resolverd.pid
        running() { [ -f $PIDFILE ] && kill -0 "$(cat $PIDFILE)" 2>/dev/null; }
        do_start() { running && return 0; /usr/sbin/resolverd -c /etc/resolverd.conf -p $PIDFILE; }
        do_stop() {
            if [ -f $PIDFILE ]; then
                pid=$(cat $PIDFILE)
                kill "$pid" 2>/dev/null || true
                i=0
                while [ -f $PIDFILE ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
                [ -f $PIDFILE ] && kill -9 "$pid" 2>/dev/null
                rm -f $PIDFILE
            fi
            return 0
        }
        case "$1" in
            start) do_start ;;
            stop) do_stop ;;
            restart|force-reload) do_stop; do_start ;;
            status) running ;;
            *) echo "usage: $0 start|stop|restart|status" >&2; exit 3 ;;
        esac

        """

    /// resolverd's C source, shared with the fleet lab (`scripts/fleet-lab.d/resolverd.c`).
    static var source: String {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent()
            return try String(contentsOf: root.appendingPathComponent("scripts/fleet-lab.d/resolverd.c"), encoding: .utf8)
        }
    }
}
