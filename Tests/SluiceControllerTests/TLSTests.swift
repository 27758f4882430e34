import Foundation
import Hummingbird
import Logging
import SluiceAPI
import SluiceClient
import SluiceController
import SluiceCore
import SluiceStore
import SluiceTLS
import Synchronization
import Testing

/// HTTPS and mutual TLS over a real loopback socket, with certificates made by Sluice's own
/// CA code: a good CA, a wrong CA, an expired certificate, a wrong name; client certificates
/// issued at enrollment, required on agent routes, and bound to the host they name.
@Suite struct TLSTests {
    /// A private CA and a server certificate for 127.0.0.1, written to a temporary directory.
    struct Files {
        let dir: URL
        let authority: CertificateAuthority
        var ca: String { dir.appendingPathComponent("ca.pem").path }
        var caKey: String { dir.appendingPathComponent("ca-key.pem").path }
        var cert: String { dir.appendingPathComponent("server.pem").path }
        var key: String { dir.appendingPathComponent("server-key.pem").path }

        init(serverNames: [String] = ["127.0.0.1", "localhost"], serverNow: Date = Date(), serverDays: Int = 30) throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let (authority, ca) = try CertificateAuthority.create(now: Date(), days: 30)
            self.authority = authority
            let server = try authority.issueServerCertificate(names: serverNames, now: serverNow, days: serverDays)
            try write(ca.certificatePEM, to: "ca.pem")
            try write(ca.privateKeyPEM, to: "ca-key.pem", mode: 0o600)
            try write(server.certificatePEM, to: "server.pem")
            try write(server.privateKeyPEM, to: "server-key.pem", mode: 0o600)
        }

        func write(_ text: String, to name: String, mode: Int = 0o644) throws {
            let path = dir.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        }

        func remove() { try? FileManager.default.removeItem(at: dir) }
    }

    /// Runs a TLS controller on a free loopback port while `body` runs.
    static func withController(
        _ files: Files, mutual: Bool = false, database: SluiceDatabase,
        _ body: @Sendable (_ url: String) async throws -> Void
    ) async throws {
        var settings = ControllerSettings()
        settings.port = 0
        settings.tls = .init(
            certificate: files.cert, key: files.key, authority: mutual ? files.ca : nil, authorityKey: mutual ? files.caKey : nil,
            requireClientCertificates: mutual)
        var logger = Logger(label: "tls-test")
        logger.logLevel = .critical
        let port = Mutex(0)
        let app = try buildApplication(settings: settings, database: database, logger: logger, runReconciler: false) { bound in
            port.withLock { $0 = bound }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            while port.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            do {
                try await body("https://127.0.0.1:\(port.withLock { $0 })")
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    static func adminToken(_ database: SluiceDatabase) throws -> String {
        try database.createOperatorToken(name: "alice", role: .admin, expiresAtMs: nil, actor: .local("root"), nowMs: 0).token
    }

    /// The transport failure a client reports, or nil when the call succeeded.
    static func failure(_ call: () async throws -> Void) async -> ClientError? {
        do {
            try await call()
            return nil
        } catch let error as ClientError {
            return error
        } catch {
            return .badResponse("\(error)")
        }
    }

    /// The call failed before reaching the API, and says it was TLS, in one line.
    static func expectTLSFailure(_ error: ClientError?, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .unreachable(let message) = error else {
            Issue.record("expected a TLS failure, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(message.contains("TLS failed") && !message.contains("\n"), "\(message)", sourceLocation: sourceLocation)
    }

    @Test func aClientPinnedToTheControllersCAConnects() async throws {
        let files = try Files()
        defer { files.remove() }
        let database = try SluiceDatabase.inMemory()
        let token = try Self.adminToken(database)
        try await Self.withController(files, database: database) { url in
            let client = try SluiceHTTPClient(controller: url, token: token, tls: ClientTLS(caFile: files.ca))
            let hosts = try await client.listHosts()
            #expect(hosts.hosts.isEmpty)
        }
    }

    @Test func aClientPinnedToAnotherCAIsRefusedTheConnection() async throws {
        let files = try Files()
        let other = try Files()
        defer {
            files.remove()
            other.remove()
        }
        let database = try SluiceDatabase.inMemory()
        let token = try Self.adminToken(database)
        try await Self.withController(files, database: database) { url in
            let client = try SluiceHTTPClient(controller: url, token: token, tls: ClientTLS(caFile: other.ca))
            Self.expectTLSFailure(await Self.failure { _ = try await client.listHosts() })
        }
    }

    @Test func anExpiredServerCertificateIsRefused() async throws {
        // Issued 40 days ago for 30 days: expired ten days ago.
        let files = try Files(serverNow: Date().addingTimeInterval(-40 * 86400), serverDays: 30)
        defer { files.remove() }
        let database = try SluiceDatabase.inMemory()
        try await Self.withController(files, database: database) { url in
            let client = try SluiceHTTPClient(controller: url, token: nil, tls: ClientTLS(caFile: files.ca))
            Self.expectTLSFailure(await Self.failure { _ = try await client.health() })
        }
    }

    @Test func aServerCertificateForAnotherNameIsRefused() async throws {
        let files = try Files(serverNames: ["controller.example.net"])
        defer { files.remove() }
        let database = try SluiceDatabase.inMemory()
        try await Self.withController(files, database: database) { url in
            let client = try SluiceHTTPClient(controller: url, token: nil, tls: ClientTLS(caFile: files.ca))
            Self.expectTLSFailure(await Self.failure { _ = try await client.health() })
        }
    }

    @Test func plainHTTPIsRefusedOffLoopbackOnBothSides() throws {
        var settings = ControllerSettings()
        try settings.setListen("0.0.0.0:8460")
        #expect(throws: InvalidInput.self) { try settings.checkTransport() }
        try settings.setListen("127.0.0.1:8460")
        try settings.checkTransport()
        #expect(throws: ClientError.self) { try SluiceHTTPClient(controller: "http://10.0.0.5:8460", token: "x") }
        _ = try SluiceHTTPClient(controller: "http://127.0.0.1:8460", token: "x")
        _ = try SluiceHTTPClient(controller: "https://10.0.0.5:8460", token: "x")
    }

    @Test func aWorldReadableKeyFileIsRefused() throws {
        let files = try Files()
        defer { files.remove() }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: files.key)
        let tls = ControllerSettings.TLSSettings(certificate: files.cert, key: files.key)
        #expect(throws: InvalidInput.self) { try tls.serverConfiguration() }
    }

    /// Regression (security probe): a key of another certificate only got NIOSSL's
    /// `failedToLoadCertificate`. It is refused in one line that names both files, before
    /// anything listens.
    @Test func aKeyThatDoesNotMatchTheCertificateIsRefusedInOneLineNamingBothFiles() throws {
        let files = try Files()
        defer { files.remove() }
        // A second server certificate of the same CA, with its own key.
        let other = try files.authority.issueServerCertificate(names: ["127.0.0.1"], now: Date(), days: 30)
        try files.write(other.privateKeyPEM, to: "other-key.pem", mode: 0o600)
        let otherKey = files.dir.appendingPathComponent("other-key.pem").path

        var settings = ControllerSettings()
        settings.port = 0
        settings.tls = .init(certificate: files.cert, key: otherKey)
        let expected =
            "the TLS key \(otherKey) does not match the certificate \(files.cert): give the key the certificate was made with (sluiced tls init writes server-key.pem beside server.pem)"
        #expect(throws: InvalidInput(expected)) { try settings.tls!.serverConfiguration() }
        // What sluiced calls: refused the same way before a socket is opened.
        #expect(throws: InvalidInput(expected)) {
            _ = try buildApplication(settings: settings, database: try SluiceDatabase.inMemory(), logger: Logger(label: "tls-test"), runReconciler: false)
        }

        // The pair that belongs together still loads.
        settings.tls = .init(certificate: files.cert, key: files.key)
        _ = try settings.tls!.serverConfiguration()
    }

    @Test func aCAKeyOfAnotherCAIsRefusedNamingBothFiles() throws {
        let files = try Files()
        let other = try Files()
        defer {
            files.remove()
            other.remove()
        }
        let tls = ControllerSettings.TLSSettings(certificate: files.cert, key: files.key, authority: files.ca, authorityKey: other.caKey)
        #expect(throws: InvalidInput("the CA key does not belong to the CA certificate (CA certificate \(files.ca), CA key \(other.caKey))")) {
            _ = try tls.signingAuthority()
        }
    }

    // MARK: Mutual TLS

    /// Enrolls `host` over https with a certificate signing request, as the agent does.
    static func enroll(_ host: String, url: String, files: Files, database: SluiceDatabase) async throws -> (token: String, tls: ClientTLS) {
        let bootstrap = try database.createEnrollmentToken(
            name: "boot-\(host)", uses: 1, expiresAtMs: Int64.max / 2, labels: nil, actor: .local("root"), nowMs: 0)
        let hostID = try HostID(parsing: host)
        let request = try ClientCertificateRequest(host: hostID)
        let client = try SluiceHTTPClient(controller: url, token: bootstrap.token, tls: ClientTLS(caFile: files.ca))
        let response = try await client.enroll(EnrollRequest(hostID: hostID, labels: Labels(), clientCertificateRequest: request.requestPEM))
        let certificate = try #require(response.clientCertificate)
        return (response.token, ClientTLS(caFile: files.ca, certificatePEM: certificate, keyPEM: request.privateKeyPEM))
    }

    @Test func enrollmentIssuesAClientCertificateThatAgentRoutesRequire() async throws {
        let files = try Files()
        defer { files.remove() }
        let database = try SluiceDatabase.inMemory()
        try await Self.withController(files, mutual: true, database: database) { url in
            let (token, tls) = try await Self.enroll("ns1.fra", url: url, files: files, database: database)
            let host = try HostID(parsing: "ns1.fra")

            // With its certificate the host is served.
            let agent = try SluiceHTTPClient(controller: url, token: token, tls: tls)
            let detail = try await agent.host(host)
            #expect(detail.summary.id == host)

            // The same token without the certificate (a stolen secret alone) is refused.
            let bare = try SluiceHTTPClient(controller: url, token: token, tls: ClientTLS(caFile: files.ca))
            let error = await Self.failure { _ = try await bare.host(host) }
            guard case .api(let status, _, _) = error else {
                Issue.record("expected 401, got \(String(describing: error))")
                return
            }
            #expect(status == 401)

            // The certificate signed for it is recorded in its enrollment event.
            let enrolled = try #require(try database.auditEvents(hostID: host).first { $0.kind == "host.enrolled" })
            let certificatePEM = try #require(tls.certificatePEM)
            let fingerprint = try #require(fingerprintSHA256(ofCertificatePEM: certificatePEM))
            #expect(enrolled.details.contains(fingerprint))

            // Operators need no client certificate.
            let admin = try SluiceHTTPClient(controller: url, token: try Self.adminToken(database), tls: ClientTLS(caFile: files.ca))
            #expect(try await admin.listHosts().hosts.count == 1)
        }
    }

    /// Regression (security probe): under mutual TLS an enrollment without a certificate
    /// request answered 201 with a host id that no request could use and that could never
    /// enroll again. It is refused before the token's use is spent or the host is made.
    @Test func enrollingWithoutACertificateRequestUnderMutualTLSIsRefusedAndSpendsNothing() async throws {
        let files = try Files()
        defer { files.remove() }
        let database = try SluiceDatabase.inMemory()
        try await Self.withController(files, mutual: true, database: database) { url in
            let bootstrap = try database.createEnrollmentToken(
                name: "boot", uses: 1, expiresAtMs: Int64.max / 2, labels: nil, actor: .local("root"), nowMs: 0)
            func usesLeft() throws -> Int? {
                let tokens = try database.listTokens(kind: .enrollment, nowMs: 0)
                return tokens.first(where: { $0.keyID == bootstrap.keyID })?.usesLeft
            }
            let host = try HostID(parsing: "ns1.fra")
            let client = try SluiceHTTPClient(controller: url, token: bootstrap.token, tls: ClientTLS(caFile: files.ca))

            let error = await Self.failure { _ = try await client.enroll(EnrollRequest(hostID: host, labels: Labels())) }
            guard case .api(let status, _, let message) = error else {
                Issue.record("expected 400, got \(String(describing: error))")
                return
            }
            #expect(status == 400)
            #expect(
                message
                    == "clientCertificateRequest: required, as this controller requires client certificates on agent routes; send a certificate signing request for the host's key (sluice-agent does)"
            )
            #expect(try usesLeft() == 1, "the refused enrollment spent a use of the token")
            #expect(try database.hostDetail(host, nowMs: 0, staleAfterMs: 1) == nil, "the refused enrollment made the host")
            #expect(try database.auditEvents(hostID: host).isEmpty, "the refused enrollment was audited as one")

            // The same host id, with a request, enrolls with that one use and is served.
            let request = try ClientCertificateRequest(host: host)
            let enrolled = try await client.enroll(EnrollRequest(hostID: host, labels: Labels(), clientCertificateRequest: request.requestPEM))
            let certificate = try #require(enrolled.clientCertificate)
            #expect(try usesLeft() == 0)
            let agent = try SluiceHTTPClient(
                controller: url, token: enrolled.token, tls: ClientTLS(caFile: files.ca, certificatePEM: certificate, keyPEM: request.privateKeyPEM))
            #expect(try await agent.host(host).summary.id == host)
        }
    }

    @Test func aClientCertificateOfAnotherHostIsRefused() async throws {
        let files = try Files()
        defer { files.remove() }
        let database = try SluiceDatabase.inMemory()
        try await Self.withController(files, mutual: true, database: database) { url in
            let (tokenA, _) = try await Self.enroll("ns1.fra", url: url, files: files, database: database)
            let (_, tlsB) = try await Self.enroll("ns1.ams", url: url, files: files, database: database)
            // Host A's token with host B's certificate.
            let mixed = try SluiceHTTPClient(controller: url, token: tokenA, tls: tlsB)
            let error = await Self.failure { _ = try await mixed.host(try HostID(parsing: "ns1.fra")) }
            guard case .api(let status, _, let message) = error else {
                Issue.record("expected 403, got \(String(describing: error))")
                return
            }
            #expect(status == 403)
            #expect(message.contains("ns1.ams"))
        }
    }

    @Test func aClientCertificateFromAnotherCAFailsTheHandshake() async throws {
        let files = try Files()
        let other = try Files()
        defer {
            files.remove()
            other.remove()
        }
        let database = try SluiceDatabase.inMemory()
        try await Self.withController(files, mutual: true, database: database) { url in
            let (token, _) = try await Self.enroll("ns1.fra", url: url, files: files, database: database)
            // A certificate naming ns1.fra, signed by a CA the controller does not trust.
            let host = try HostID(parsing: "ns1.fra")
            let request = try ClientCertificateRequest(host: host)
            let forged = try other.authority.issueClientCertificate(forRequestPEM: request.requestPEM, host: host, now: Date())
            let client = try SluiceHTTPClient(
                controller: url, token: token, tls: ClientTLS(caFile: files.ca, certificatePEM: forged, keyPEM: request.privateKeyPEM))
            let error = await Self.failure { _ = try await client.host(host) }
            guard case .unreachable = error else {
                Issue.record("expected the handshake to fail, got \(String(describing: error))")
                return
            }
        }
    }
}

/// The CA's own rules, without a socket.
@Suite struct CertificateAuthorityTests {
    @Test func aClientCertificateNamesTheEnrolledHostNotTheRequestsSubject() throws {
        let (authority, _) = try CertificateAuthority.create(now: Date())
        // The request claims to be ns1.ams; the certificate is issued for ns1.fra.
        let request = try ClientCertificateRequest(host: try HostID(parsing: "ns1.ams"))
        let pem = try authority.issueClientCertificate(forRequestPEM: request.requestPEM, host: try HostID(parsing: "ns1.fra"), now: Date())
        let der = try #require(pemBody(pem))
        #expect(commonName(ofCertificateDER: der) == "ns1.fra")
    }

    @Test func aMalformedOrTamperedRequestIsRefusedWithOneLine() throws {
        let (authority, _) = try CertificateAuthority.create(now: Date())
        let host = try HostID(parsing: "ns1.fra")
        #expect(throws: InvalidInput.self) { try authority.issueClientCertificate(forRequestPEM: "not pem", host: host, now: Date()) }
        let request = try ClientCertificateRequest(host: host)
        // Flip one byte in the middle of the base64 body: the signature no longer verifies (or it no longer parses).
        var lines = request.requestPEM.split(separator: "\n").map(String.init)
        var middle = Array(lines[2])
        middle[10] = middle[10] == "A" ? "B" : "A"
        lines[2] = String(middle)
        let tampered = lines.joined(separator: "\n") + "\n"
        do {
            _ = try authority.issueClientCertificate(forRequestPEM: tampered, host: host, now: Date())
            Issue.record("a tampered request was signed")
        } catch {
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func aServerCertificateRefusesANameThatIsNeitherDNSNorIP() throws {
        let (authority, _) = try CertificateAuthority.create(now: Date())
        #expect(throws: InvalidInput.self) { try authority.issueServerCertificate(names: ["bad name!"], now: Date()) }
        #expect(throws: InvalidInput.self) { try authority.issueServerCertificate(names: [], now: Date()) }
    }

    @Test func theCAKeyMustBelongToTheCACertificate() throws {
        let (_, first) = try CertificateAuthority.create(now: Date())
        let (_, second) = try CertificateAuthority.create(now: Date())
        #expect(throws: InvalidInput.self) { try CertificateAuthority(certificatePEM: first.certificatePEM, privateKeyPEM: second.privateKeyPEM) }
        _ = try CertificateAuthority(certificatePEM: first.certificatePEM, privateKeyPEM: first.privateKeyPEM)
    }

    func pemBody(_ pem: String) -> [UInt8]? {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return Data(base64Encoded: body).map { Array($0) }
    }
}
