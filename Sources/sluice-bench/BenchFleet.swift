import Foundation
import NIOCore
import SluiceAPI
import SluiceCore
import SluiceStore

/// A fleet enrolled for a benchmark, written through the store's own methods into a fresh
/// SQLite file before sluiced opens it (what `POST /v1/enroll` and the agent's first reports
/// would write, without 10,000 HTTP round trips): each host has its own secret.
struct BenchFleet: Sendable {
    struct Host: Sendable {
        let id: String
        /// `Bearer <the host's own token>`.
        let authorization: String
    }

    let databasePath: String
    let hosts: [Host]
    let operatorToken: String
    let enrollmentToken: String

    /// - Parameters:
    ///   - labels: each host's labels, by its index.
    ///   - inventory: the report every host has sent once (a health report follows it).
    static func enroll(
        count: Int, in directory: String, id: (Int) -> String, labels: (Int) -> [String: String], inventory: InventoryReport?
    ) throws -> BenchFleet {
        let path = directory + "/sluice.sqlite"
        let clock = SystemWallClock()
        let database = try SluiceDatabase.open(path: path, nowMs: clock.nowMs())
        let admin = try database.createOperatorToken(name: "bench", role: .admin, expiresAtMs: nil, actor: .local("bench"), nowMs: clock.nowMs())
        let enrollment = try database.createEnrollmentToken(
            name: "bench-fleet", uses: 100_000, expiresAtMs: clock.nowMs() + 86_400_000, labels: nil, actor: .local("bench"), nowMs: clock.nowMs())
        var hosts: [Host] = []
        hosts.reserveCapacity(count)
        for i in 0..<count {
            let host = try HostID(parsing: id(i))
            let issued = try database.enroll(host: host, labels: try Labels(validating: labels(i)), enrollmentKeyID: enrollment.keyID, nowMs: clock.nowMs())
            if let inventory { try database.recordInventory(host: host, report: inventory, nowMs: clock.nowMs()) }
            try database.recordHealth(host: host, healthy: true, detail: "bench host up", nowMs: clock.nowMs())
            hosts.append(Host(id: host.rawValue, authorization: "Bearer \(issued.token)"))
        }
        return BenchFleet(databasePath: path, hosts: hosts, operatorToken: admin.token, enrollmentToken: enrollment.token)
    }
}

/// A real sluiced on a free loopback port over a benchmark's database.
func startSluiced(directory: String, databasePath: String, policies: String? = nil, config: String? = nil, extraArguments: [String] = []) throws -> (
    BenchChild, Int
) {
    var arguments = ["--db", databasePath, "--listen", "127.0.0.1:0", "--port-file", directory + "/sluiced.port"] + extraArguments
    if let policies { arguments += ["--policies", policies] }
    if let config {
        try config.write(toFile: directory + "/sluiced.yaml", atomically: true, encoding: .utf8)
        arguments += ["--config", directory + "/sluiced.yaml"]
    }
    let child = try BenchChild("sluiced", arguments, logPath: directory + "/sluiced.log")
    let port = try child.waitForPort(file: directory + "/sluiced.port")
    return (child, port)
}

/// Inventories shaped like a Debian 12 server's: `installed` packages, and openssl pending
/// from the security archive; `variant` 1 also has libssl3 pending (a changed inventory).
enum BenchInventory {
    static func json(installed: Int, variant: Int) -> String {
        var packages = [
            #"{"name":"openssl","architecture":"amd64","version":"3.0.15-1~deb12u1","status":"install ok installed"}"#,
            #"{"name":"libssl3","architecture":"amd64","version":"3.0.15-1~deb12u1","status":"install ok installed"}"#,
        ]
        for i in 0..<max(0, installed - 2) {
            packages.append(#"{"name":"bench-package-\#(i)","architecture":"amd64","version":"1.\#(i % 97).\#(i % 13)-\#(i % 5 + 1)","status":"install ok installed"}"#)
        }
        let origin = #"{"origin":"Debian","label":"Debian-Security","archive":"stable-security","codename":"bookworm-security","component":"main","site":"deb.debian.org"}"#
        var candidates = [
            #"{"name":"openssl","architecture":"amd64","installedVersion":"3.0.15-1~deb12u1","candidateVersion":"3.0.17-1~deb12u2","origins":[\#(origin)]}"#
        ]
        if variant == 1 {
            candidates.append(
                #"{"name":"libssl3","architecture":"amd64","installedVersion":"3.0.15-1~deb12u1","candidateVersion":"3.0.17-1~deb12u2","origins":[\#(origin)]}"#)
        }
        return """
            {"agentVersion":"0.1.0-bench","rebootRequired":false,"rebootRequiredPackages":[],\
            "os":{"id":"debian","versionID":"12","versionCodename":"bookworm","prettyName":"Debian GNU/Linux 12 (bookworm)"},\
            "unattendedUpgrades":{"enabled":false,"detail":"disabled by Sluice"},\
            "installed":[\(packages.joined(separator: ","))],"candidates":[\(candidates.joined(separator: ","))]}
            """
    }

    static func report(installed: Int, variant: Int) throws -> InventoryReport {
        try JSONDecoder().decode(InventoryReport.self, from: Data(json(installed: installed, variant: variant).utf8))
    }

    static func buffer(installed: Int, variant: Int) -> ByteBuffer { ByteBuffer(string: json(installed: installed, variant: variant)) }

    /// What an agent holding this inventory sends to confirm it unchanged: its digest.
    static func confirmation(installed: Int, variant: Int) throws -> ByteBuffer {
        let digest = InventoryDigest.hex(of: try report(installed: installed, variant: variant))
        return ByteBuffer(bytes: try JSONEncoder().encode(InventoryConfirmation(digest: digest)))
    }
}
