import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SluiceController
import SluiceCore
import SluiceProcess
import SluiceStore
import SluiceYAML

#if canImport(Glibc)
import Glibc
#endif

@main
struct SluicedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluiced",
        abstract: "The Sluice controller: keeps the fleet's inventory and moves updates through waves.",
        subcommands: [Serve.self, InitCommand.self, TokenCommand.self, EnrollTokenCommand.self, TLSCommand.self, AuditCommand.self],
        defaultSubcommand: Serve.self
    )
}

/// Options every subcommand that opens the database shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "YAML config file (keys: listen, db, policies, alert_webhook, report_interval, stale_after, plan_simulation_timeout, saved_package_retention, tls, ...). Flags override it.")
    var config: String?

    @Option(name: .long, help: "SQLite database file. [default: ./sluice.sqlite]")
    var db: String?

    @Option(name: .long, help: "Directory of policy files (*.yaml). [default: the policies built into sluiced]")
    var policies: String?

    /// Defaults, then the config file, then the flags.
    func settings(listen: String? = nil) throws -> ControllerSettings {
        var settings = ControllerSettings()
        if let config {
            let text: String
            do { text = try String(contentsOfFile: config, encoding: .utf8) } catch {
                throw InvalidInput("cannot read config file \(config): \(error.localizedDescription)")
            }
            try settings.apply(configYAML: text, file: config)
        }
        if let db { settings.databasePath = db }
        if let policies { settings.policiesDirectory = policies }
        if let listen {
            try settings.setListen(listen)
        }
        return settings
    }

    func open(_ settings: ControllerSettings) throws -> SluiceDatabase {
        do {
            return try SluiceDatabase.open(path: settings.databasePath, nowMs: SystemWallClock().nowMs())
        } catch let error as StoreError {
            throw InvalidInput(error.description)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the controller's HTTP API (the default).")

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Address to listen on, HOST:PORT; port 0 picks a free one. [default: 127.0.0.1:8460]")
    var listen: String?

    @Option(name: .long, help: "Write the bound port to this file once listening (for scripts and tests).")
    var portFile: String?

    @OptionGroup(title: "HTTPS (create the files with `sluiced tls init`)") var tls: TLSOptions

    func run() async throws {
        LoggingSystem.bootstrap(DeferredMetadataLogHandler.standardError)
        var configured = try store.settings(listen: listen)
        try tls.apply(to: &configured)
        let settings = configured
        // Unusable TLS files (a key of another certificate) are refused in one line before the
        // database is created or anything is logged; buildApplication loads them again.
        try settings.checkTransport()
        _ = try settings.tls?.serverConfiguration()
        _ = try settings.tls?.signingAuthority()
        let database = try store.open(settings)
        let checkpoints = try database.startBackgroundCheckpoints()
        defer { checkpoints.stop() }
        let logger = Logger(label: "sluiced")
        raiseOpenFileLimit(logger: logger)
        if try database.operatorTokenCount() == 0 {
            logger.notice("no operator token yet: create one with `sluiced token create --name NAME --db \(settings.databasePath)`")
        }
        let policies = try settings.policiesDirectory.map { try PolicyLoader.loadDirectory($0) } ?? PolicyLoader.embedded()
        logger.notice("policies: \(policies.map(\.name).joined(separator: ", ")) (\(settings.policiesDirectory ?? "built in"))")
        let portFile = self.portFile
        let scheme = settings.tls == nil ? "http" : "https"
        let app = try buildApplication(settings: settings, database: database, logger: logger, policies: policies) { port in
            logger.notice("listening on \(scheme)://\(settings.host):\(port) (database \(settings.databasePath))")
            if let portFile { try? "\(port)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
        }
        try await app.runService()
        logger.notice("stopped")
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Operator tokens, created locally on the controller host.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an operator token (the first one must be made here). Prints the token alone on stdout.")

        @OptionGroup var store: StoreOptions
        @Option(help: "The operator's name, recorded as operator:NAME in the audit log.") var name: String
        @Option(help: "viewer, operator or admin.") var role: String = "admin"
        @Option(help: "Lifetime, such as 90d; no expiry when absent.") var expiresIn: String?

        func run() async throws {
            guard let role = OperatorRole(rawValue: role) else { throw InvalidInput("invalid role \"\(role)\": use viewer, operator or admin") }
            let settings = try store.settings()
            let database = try store.open(settings)
            let now = SystemWallClock().nowMs()
            let expires = try expiresIn.map { text in
                now + (try DurationText.parseSeconds(text)) * 1000
            }
            let issued = try database.createOperatorToken(
                name: name, role: role, expiresAtMs: expires, actor: .local(localUser()), nowMs: now)
            FileHandle.standardError.write(Data("created \(role.rawValue) token \(issued.keyID) for \(name); it is shown once:\n".utf8))
            print(issued.token)
        }
    }
}

struct EnrollTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll-token", abstract: "Enrollment (bootstrap) tokens, created locally on the controller host.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an enrollment token. Prints the token alone on stdout.")

        @OptionGroup var store: StoreOptions
        @Option(help: "A name for the token, recorded in the audit log.") var name: String
        @Option(help: "How many hosts it may enroll.") var uses: Int = 1
        @Option(help: "Lifetime, such as 1h or 7d.") var expiresIn: String = "1d"
        @Option(name: .customLong("label"), help: "Only enroll hosts with this label, key=value (repeatable).") var labels: [String] = []

        func run() async throws {
            let settings = try store.settings()
            let database = try store.open(settings)
            let now = SystemWallClock().nowMs()
            let seconds = try DurationText.parseSeconds(expiresIn)
            var bound: [String: String] = [:]
            for text in labels {
                let (key, value) = try Labels.parseAssignment(text)
                bound[key] = value
            }
            let issued = try database.createEnrollmentToken(
                name: name, uses: uses, expiresAtMs: now + seconds * 1000, labels: bound.isEmpty ? nil : try Labels(validating: bound),
                actor: .local(localUser()), nowMs: now)
            FileHandle.standardError.write(Data("created enrollment token \(issued.keyID) (\(uses) use(s), expires in \(expiresIn)); it is shown once:\n".utf8))
            print(issued.token)
        }
    }
}

/// Every agent's long-poll holds a socket: lift the soft limit on open files to the hard
/// one, as a server should (systemd's default soft limit is 1,024; its hard one far higher).
func raiseOpenFileLimit(logger: Logger) {
    guard let change = OpenFileLimit.raiseToHardLimit(), change.after != change.before || change.failed else { return }
    if change.failed {
        logger.warning("cannot raise the open files limit from \(change.before): at most about \(change.before) agents can long-poll at once")
    } else {
        logger.info("open files limit raised from \(change.before) to \(change.after)")
    }
}

func localUser() -> String {
    let user = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "root"
    return user.isEmpty ? "root" : user
}
