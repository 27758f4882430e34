import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SluiceController
import SluiceCore
import SluiceTLS

/// `serve`'s HTTPS flags; they override the config file's `tls` section.
struct TLSOptions: ParsableArguments {
    @Option(name: .long, help: "Server certificate (PEM). With --tls-key, the controller serves HTTPS.")
    var tlsCert: String?

    @Option(name: .long, help: "The server certificate's private key (PEM, not readable by other users).")
    var tlsKey: String?

    @Option(name: .long, help: "The private CA's certificate: client certificates are verified against it.")
    var tlsCa: String?

    @Option(name: .long, help: "The CA's key: enrollment then signs each agent's client certificate.")
    var tlsCaKey: String?

    @Flag(name: .long, help: "Mutual TLS: agent routes refuse a host without its own client certificate.")
    var requireClientCert = false

    func apply(to settings: inout ControllerSettings) throws {
        if tlsCert != nil || tlsKey != nil {
            guard let tlsCert, let tlsKey else { throw InvalidInput("--tls-cert and --tls-key go together") }
            var tls = settings.tls ?? .init(certificate: tlsCert, key: tlsKey)
            tls.certificate = tlsCert
            tls.key = tlsKey
            settings.tls = tls
        }
        if tlsCa != nil || tlsCaKey != nil || requireClientCert {
            guard var tls = settings.tls else { throw InvalidInput("--tls-ca, --tls-ca-key and --require-client-cert need --tls-cert and --tls-key") }
            if let tlsCa { tls.authority = tlsCa }
            if let tlsCaKey { tls.authorityKey = tlsCaKey }
            if requireClientCert { tls.requireClientCertificates = true }
            settings.tls = tls
        }
        try settings.tls?.check()
    }
}

struct TLSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls", abstract: "The controller's private certificate authority.", subcommands: [Init.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a private CA and a server certificate for the controller's names; print what agents need.",
            discussion: """
                Writes ca.pem, ca-key.pem, server.pem and server-key.pem into --dir (keys mode 0600) and
                refuses to overwrite any of them. Copy ca.pem (never ca-key.pem) to every agent and to
                operators' machines: they verify the controller against it.
                """)

        @Option(help: "Where to write the files.") var dir: String = "/etc/sluice/tls"
        @Option(name: .customLong("name"), help: "A DNS name or IP address agents use to reach the controller (repeatable).")
        var names: [String] = []
        @Option(help: "Days the server certificate is valid.") var days: Int = 825
        @Option(help: "Days the CA is valid.") var caDays: Int = 3650

        func validate() throws {
            guard !names.isEmpty else { throw ValidationError("give at least one --name: the DNS name or address agents connect to") }
            guard (1...3650).contains(days), (1...36500).contains(caDays) else { throw ValidationError("--days must be 1...3650 and --ca-days 1...36500") }
        }

        func run() async throws {
            let files = try ControllerCertificates.create(in: dir, names: names, days: days, caDays: caDays)
            print(
                """
                Created in \(dir):
                  ca.pem          the private CA; copy it to every agent and operator machine
                  ca-key.pem      the CA's key; keep it on the controller host only (mTLS enrollment signs with it)
                  server.pem      the controller's certificate for \(names.joined(separator: ", ")), valid \(days) days
                  server-key.pem  its key

                Serve HTTPS:
                  sluiced serve --listen 0.0.0.0:8460 --tls-cert \(files[2]) --tls-key \(files[3])
                Add mutual TLS (agents get a client certificate at enrollment):
                  ... --tls-ca \(files[0]) --tls-ca-key \(files[1]) --require-client-cert

                Agents (/etc/sluice/agent.yaml):
                  controller: https://\(names[0]):8460
                  controller_ca: /etc/sluice/ca.pem
                sluicectl:
                  sluicectl hosts list --controller https://\(names[0]):8460 --ca-file /etc/sluice/ca.pem
                  (or SLUICE_CONTROLLER and SLUICE_CA_FILE in the environment)
                """)
        }
    }
}

/// The controller's private CA and server certificate, as files in one directory.
enum ControllerCertificates {
    static let fileNames = ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"]

    static func paths(in dir: String) -> [String] {
        fileNames.map { URL(fileURLWithPath: dir).appendingPathComponent($0).path }
    }

    /// Writes ca.pem, ca-key.pem, server.pem and server-key.pem into `dir` (keys 0600), refusing
    /// to overwrite any; on a failure, removes what it wrote. Returns the four paths.
    static func create(in dir: String, names: [String], days: Int, caDays: Int) throws -> [String] {
        let files = paths(in: dir)
        for file in files where FileManager.default.fileExists(atPath: file) {
            throw InvalidInput("\(file) already exists: refusing to overwrite it (move it away to start a new CA)")
        }
        let now = Date()
        let (authority, ca) = try CertificateAuthority.create(now: now, days: caDays)
        let server = try authority.issueServerCertificate(names: names, now: now, days: days)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw InvalidInput("cannot create \(dir): \(error.localizedDescription)")
        }
        // Keys are created 0600 before any byte is written; nothing is left half written.
        let contents = [ca.certificatePEM, ca.privateKeyPEM, server.certificatePEM, server.privateKeyPEM]
        var written: [String] = []
        for (file, text) in zip(files, contents) {
            do {
                try writeNewFile(file, text, mode: file.hasSuffix("-key.pem") ? 0o600 : 0o644)
                written.append(file)
            } catch {
                for file in written { try? FileManager.default.removeItem(atPath: file) }
                throw error
            }
        }
        return files
    }
}

/// Creates `path` with `mode` (never widened by the umask's default first) and writes
/// `text`; fails if the file exists.
func writeNewFile(_ path: String, _ text: String, mode: mode_t) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
    guard fd >= 0 else { throw InvalidInput("cannot create \(path): \(String(cString: strerror(errno)))") }
    let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    do {
        try handle.write(contentsOf: Data(text.utf8))
        try handle.synchronize()
    } catch {
        try? FileManager.default.removeItem(atPath: path)
        throw InvalidInput("cannot write \(path): \(error.localizedDescription)")
    }
}
