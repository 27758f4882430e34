import ArgumentParser
import Foundation
import SluiceClient
import SluiceCore
import SluiceStore

/// Where the audit commands read: the controller's API, or a copy of its SQLite file.
struct AuditSource: ParsableArguments {
    @Option(help: ArgumentHelp("Read this SQLite file directly, read-only (a copy or a backup of the controller's), instead of asking the controller.", valueName: "FILE"))
    var db: String?

    @Option(help: "Controller URL (also SLUICE_CONTROLLER). [default: http://127.0.0.1:8460]")
    var controller: String?

    @Option(help: "Operator token (also SLUICE_TOKEN).")
    var token: String?

    @Option(help: "The private CA (PEM) the controller's https certificate must chain to (also SLUICE_CA_FILE).")
    var caFile: String?

    enum Reader {
        case file(SluiceDatabase)
        case controller(SluiceHTTPClient)
    }

    /// Opens the file (saying on stderr when its schema is older) or makes the client.
    func open() throws -> Reader {
        if let db {
            guard controller == nil else { throw ValidationError("--db reads a file; leave out --controller") }
            let database = try SluiceDatabase.openReadOnly(path: db)
            if let note = try database.olderSchemaNote() { FileHandle.standardError.write(Data((note + "\n").utf8)) }
            return .file(database)
        }
        let environment = ProcessInfo.processInfo.environment
        let url = controller ?? environment["SLUICE_CONTROLLER"] ?? "http://127.0.0.1:8460"
        guard let token = token ?? environment["SLUICE_TOKEN"], !token.isEmpty else {
            throw InvalidInput("no operator token: pass --token or set SLUICE_TOKEN, or read a database file with --db FILE")
        }
        return .controller(try SluiceHTTPClient(controller: url, token: token, tls: ClientTLS(caFile: caFile ?? environment["SLUICE_CA_FILE"])))
    }

    func page(_ query: AuditQuery) async throws -> AuditPage {
        switch try open() {
        case .file(let database): try database.auditPage(query)
        case .controller(let client): try await client.auditPage(query)
        }
    }
}

/// `--tz`, shared by the commands that print times.
struct ZoneOption: ParsableArguments {
    @Option(help: ArgumentHelp("The reader's time zone, an IANA name such as Europe/Paris, or UTC. [default: this machine's]", valueName: "ZONE"))
    var tz: String?

    func zone() throws -> TimeZone {
        guard let tz else { return TimeZone.current }
        return try AuditTime.zone(named: tz)
    }
}

/// Writes to standard error, for notes that must not mix with the output.
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Writes text to standard output without `print`'s buffering surprises for large output.
func writeOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
