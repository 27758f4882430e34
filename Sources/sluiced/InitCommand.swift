import ArgumentParser
import Foundation
import SluiceController
import SluiceCore
import SluiceStore
import Subprocess
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// `sluiced init`: a controller host set up in one step after `apt install ./sluiced_*.deb`.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Set up this controller host in one step: TLS, database, first tokens, mutual TLS, the service started.",
        discussion: """
            As root, once, after installing the sluiced package. It creates the private CA and the
            server certificate for the --name given (`sluiced tls init`), the config file if there is
            none, the database with a first admin token and a first enrollment token, the systemd
            drop-in that turns on mutual TLS (unless --no-mutual-tls), hands the state directory to
            the service's user, and runs `systemctl enable --now sluiced`. It prints the tokens once,
            what sluicectl needs, and the command that installs and enrolls an agent.

            It refuses a host that is already set up (a CA, or an operator token in the database)
            and changes nothing then. If a step fails before the service is started, what it created
            is removed again.
            """)

    @Option(name: .customLong("name"), help: "A DNS name or IP address agents use to reach the controller (repeatable; the first is printed in URLs).")
    var names: [String] = []
    @Option(name: .customLong("operator"), help: "The first admin's name, recorded as operator:NAME in the audit log. [default: $SUDO_USER or $USER]")
    var operatorName: String?
    @Option(help: "How many hosts the first enrollment token may enroll.") var enrollUses: Int = 25
    @Option(help: "The first enrollment token's lifetime, such as 1h or 7d.") var enrollExpiresIn: String = "1d"
    @Flag(help: "Serve HTTPS without client certificates (agents enrolled then can never switch to mutual TLS).")
    var noMutualTls = false
    @Flag(help: "Do not run systemctl (an image prepared before its first boot).") var noStart = false
    @Option(help: "Configuration directory: sluiced.yaml and tls/.") var configDir: String = "/etc/sluice"
    @Option(help: "State directory: the database.") var stateDir: String = "/var/lib/sluice"
    @Option(help: "Where the mutual-TLS drop-in goes (as sluiced.service.d/mtls.conf).") var unitDir: String = "/etc/systemd/system"
    @Option(help: "The service's user, given the state directory.") var user: String = "sluice"
    @Option(help: .hidden) var systemctl = "systemctl"

    func validate() throws {
        guard !names.isEmpty else { throw ValidationError("give at least one --name: the DNS name or address agents connect to") }
        guard enrollUses >= 1 else { throw ValidationError("--enroll-uses must be at least 1") }
        for (flag, path) in [("--config-dir", configDir), ("--state-dir", stateDir), ("--unit-dir", unitDir)] {
            // Paths go into a unit file's ExecStart=, which splits on whitespace and expands %.
            guard path.hasPrefix("/"), !path.contains(where: { $0.isWhitespace || $0 == "%" || $0 == "\"" || $0 == "\\" }) else {
                throw ValidationError("\(flag) must be an absolute path without spaces, quotes, backslashes or %: \(path)")
            }
        }
    }

    func run() async throws {
        let tlsDir = configDir + "/tls"
        let configFile = configDir + "/sluiced.yaml"
        let database = stateDir + "/sluice.sqlite"
        let dropIn = unitDir + "/sluiced.service.d/mtls.conf"
        let expires = try DurationText.parseSeconds(enrollExpiresIn)
        let operatorName = self.operatorName ?? localUser()

        // Everything checked before anything is written.
        for file in ControllerCertificates.paths(in: tlsDir) where FileManager.default.fileExists(atPath: file) {
            throw InvalidInput("already set up: \(file) exists (sluiced init creates a new CA; move \(tlsDir) away to start again)")
        }
        if !noMutualTls, FileManager.default.fileExists(atPath: dropIn) {
            throw InvalidInput("already set up: \(dropIn) exists")
        }
        var settings = ControllerSettings()
        let writeConfig = !FileManager.default.fileExists(atPath: configFile)
        if !writeConfig {
            let text: String
            do { text = try String(contentsOfFile: configFile, encoding: .utf8) } catch {
                throw InvalidInput("cannot read \(configFile): \(error.localizedDescription)")
            }
            try settings.apply(configYAML: text, file: configFile)
        } else {
            try settings.setListen(Self.defaultListen)
        }
        let owner = try serviceOwner()
        let createdDatabase = !FileManager.default.fileExists(atPath: database)
        if !createdDatabase, try SluiceDatabase.open(path: database, nowMs: SystemWallClock().nowMs()).operatorTokenCount() > 0 {
            throw InvalidInput("already set up: \(database) has operator tokens (make more with `sluiced token create`)")
        }

        var undo = Undo()
        let url: String
        let admin: String
        let enrollment: String
        do {
            undo.directories += try createDirectories(tlsDir, mode: 0o755)
            let files = try ControllerCertificates.create(in: tlsDir, names: names, days: 825, caDays: 3650)
            undo.files += files
            if writeConfig {
                try writeNewFile(configFile, Self.config(database: database), mode: 0o640)
                undo.files.append(configFile)
                if let owner { try chown(configFile, user: 0, group: owner.gid) }
            }
            undo.directories += try createDirectories(stateDir, mode: 0o700)
            if createdDatabase { undo.files += [database, database + "-wal", database + "-shm"] }
            let now = SystemWallClock().nowMs()
            let store: SluiceDatabase
            do { store = try SluiceDatabase.open(path: database, nowMs: now) } catch let error as StoreError {
                throw InvalidInput(error.description)
            }
            admin = try store.createOperatorToken(
                name: operatorName, role: .admin, expiresAtMs: nil, actor: .local(localUser()), nowMs: now
            ).token
            enrollment = try store.createEnrollmentToken(
                name: "sluiced-init", uses: enrollUses, expiresAtMs: now + expires * 1000, labels: nil,
                actor: .local(localUser()), nowMs: now
            ).token
            if !noMutualTls {
                undo.directories += try createDirectories(unitDir + "/sluiced.service.d", mode: 0o755)
                try writeNewFile(dropIn, Self.mutualTLSDropIn(binary: try ownPath(), configFile: configFile, database: database, tlsDir: tlsDir), mode: 0o644)
                undo.files.append(dropIn)
            }
            // The service runs as its own user: the database and its directory are its own.
            if let owner {
                try chown(stateDir, user: owner.uid, group: owner.gid)
                for file in [database, database + "-wal", database + "-shm"] where FileManager.default.fileExists(atPath: file) {
                    try chown(file, user: owner.uid, group: owner.gid)
                }
            }
            url = "https://\(Self.urlHost(names[0])):\(settings.port)"
        } catch {
            undo.run()
            throw error
        }

        print(
            """
            Set up the Sluice controller for \(names.joined(separator: ", ")):
              \(tlsDir)/ca.pem        the private CA: copy it to every host and operator machine
              \(tlsDir)/ca-key.pem    the CA's key (mutual TLS signs agents' certificates with it); never copy it
              \(writeConfig ? configFile + "  written (listen \(Self.defaultListen))" : configFile + "  kept as it was")
              \(database)  the database
              \(noMutualTls ? "mutual TLS off (--no-mutual-tls)" : dropIn + "  mutual TLS on")

            Admin token for \(operatorName) (shown once; keep it in a password manager):
              \(admin)
            sluicectl:
              export SLUICE_CONTROLLER=\(url) SLUICE_CA_FILE=\(tlsDir)/ca.pem SLUICE_TOKEN=<the admin token>

            Enrollment token (\(enrollUses) host(s), expires in \(enrollExpiresIn); more with `sluicectl enroll-token create`):
              \(enrollment)
            On each host, with ca.pem copied to it:
              apt install ./sluice-agent_*.deb && sluice-agent enroll --controller \(url) --ca ca.pem \\
                  --token \(enrollment) --label environment=production --label role=ROLE --label region=REGION
            """)
        if noStart {
            print("\nStart it with: systemctl daemon-reload && systemctl enable --now sluiced")
            return
        }
        for arguments in [["daemon-reload"], ["enable", "--now", "sluiced.service"]] {
            let reason = await runSystemctl(arguments)
            if let reason {
                throw InvalidInput("set up, but `systemctl \(arguments.joined(separator: " "))` failed: \(reason); run it by hand")
            }
        }
        print("\nsluiced enabled and started: systemctl status sluiced")
    }

    static let defaultListen = "0.0.0.0:8460"

    /// The config `init` writes where none exists (a controller installed without the package).
    static func config(database: String) -> String {
        """
        # Written by `sluiced init`; every key is described in sluiced.yaml.example
        # (/usr/share/doc/sluiced/ in the package, systemd/ in the source).
        listen: \(defaultListen)
        db: \(database)
        report_interval: 60s
        stale_after: 5m

        """
    }

    /// The drop-in that turns on mutual TLS: systemd/sluiced-mtls.conf with this host's paths.
    static func mutualTLSDropIn(binary: String, configFile: String, database: String, tlsDir: String) -> String {
        """
        # Written by `sluiced init`: mutual TLS (the packaged copy, with its reasons, is
        # /usr/share/sluice/sluiced-mtls.conf). Agents enrolled from now on get a client certificate.
        [Service]
        LoadCredential=ca-key.pem:\(tlsDir)/ca-key.pem
        ExecStart=
        ExecStart=\(binary) serve --config \(configFile) --db \(database) --tls-cert \(tlsDir)/server.pem --tls-key %d/server-key.pem --tls-ca \(tlsDir)/ca.pem --tls-ca-key %d/ca-key.pem --require-client-cert

        """
    }

    /// An IPv6 address in brackets, as a URL needs.
    static func urlHost(_ name: String) -> String { name.contains(":") ? "[\(name)]" : name }

    private func serviceOwner() throws -> (uid: uid_t, gid: gid_t)? {
        guard let entry = getpwnam(user) else {
            // A controller set up by hand without the package may run as root; say so.
            if user == "sluice" { return nil }
            throw InvalidInput("no user \"\(user)\" on this host")
        }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    private func ownPath() throws -> String {
        do { return try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") } catch {
            throw InvalidInput("cannot find this program's path (/proc/self/exe): \(error.localizedDescription)")
        }
    }

    /// Creates `path` and any missing parent (the last one with `mode`, parents 0755); returns
    /// the directories it created, parents first, for the undo.
    private func createDirectories(_ path: String, mode: Int) throws -> [String] {
        var missing: [String] = []
        var directory = URL(fileURLWithPath: path).standardized.path
        while directory != "/", !FileManager.default.fileExists(atPath: directory) {
            missing.insert(directory, at: 0)
            directory = (directory as NSString).deletingLastPathComponent
        }
        var created: [String] = []
        for directory in missing {
            guard mkdir(directory, mode_t(directory == missing.last ? mode : 0o755)) == 0 else {
                for directory in created.reversed() { rmdir(directory) }
                throw InvalidInput("cannot create \(directory): \(String(cString: strerror(errno)))")
            }
            created.append(directory)
        }
        return created
    }

    private func chown(_ path: String, user: uid_t, group: gid_t) throws {
        guard Glibc.chown(path, user, group) == 0 else {
            throw InvalidInput("cannot give \(path) to \(self.user): \(String(cString: strerror(errno)))")
        }
    }

    /// nil when systemctl succeeded, else its first line of output.
    private func runSystemctl(_ arguments: [String]) async -> String? {
        do {
            let executable: Executable = systemctl.hasPrefix("/") ? .path(FilePath(systemctl)) : .name(systemctl)
            let result = try await Subprocess.run(
                executable, arguments: Arguments(arguments), output: .string(limit: 1 << 16), error: .string(limit: 1 << 16))
            if case .exited(0) = result.terminationStatus { return nil }
            let text = result.standardError + result.standardOutput
            return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(result.terminationStatus)"
        } catch {
            return "\(error)"
        }
    }

    /// What to remove when a step fails: files first, then the directories created (newest first).
    private struct Undo {
        var files: [String] = []
        var directories: [String] = []

        func run() {
            for file in files { try? FileManager.default.removeItem(atPath: file) }
            for directory in directories.reversed() { rmdir(directory) }
        }
    }
}
