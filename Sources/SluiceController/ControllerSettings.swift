import Foundation
import NIOCore
import SluiceCore
import SluiceStore
import SluiceYAML

/// How `sluiced` runs: where it listens, where its database is, and its timings.
/// Built from defaults, then a config file, then command-line flags, each overriding the last.
public struct ControllerSettings: Sendable, Equatable {
    public static let defaultPort = 8460

    public var host = "127.0.0.1"
    public var port = ControllerSettings.defaultPort
    public var databasePath = "./sluice.sqlite"
    /// How often agents are asked to report.
    public var reportIntervalSeconds = 60
    /// A host silent for longer than this is stale.
    public var staleAfterMs: Int64 = 5 * 60 * 1000
    /// The reconciler runs at least this often, and at once on every change.
    public var reconcileIntervalMs = 1000
    /// Where the policy files are; `nil` for none (no rollouts can be created).
    public var policiesDirectory: String?
    /// Where alerts are posted as JSON (``AlertDelivery``).
    public var alertWebhook: String?
    /// The file holding the secret alerts are signed with (HMAC-SHA256); required with a webhook.
    public var alertSecretFile: String?
    /// HTTPS: without it the controller serves plain HTTP, and only on loopback.
    public var tls: TLSSettings?
    /// Requests each identity (an operator or enrollment token, a host, or, for requests
    /// without a valid credential, a source address) may make.
    public var rateLimit = RateLimit(perSecond: 50, burst: 200)
    /// Enrollments from one source address.
    public var enrollmentRateLimit = RateLimit(perSecond: 1, burst: 30)
    /// A connection that sends nothing for this long (a slow or stalled client) is closed.
    /// Long polls are not cut: the limit applies while reading a request, not while answering.
    public var idleTimeoutSeconds = 30
    /// Connections open at once, in all and from one source address; nil derives each from
    /// the open-files limit when the server starts (``connectionLimits(openFileLimit:)``).
    public var maxConnections: Int?
    public var maxConnectionsPerAddress: Int?
    /// A connection that has made no request with a valid credential this long after it was
    /// accepted is closed.
    public var unauthenticatedTimeoutSeconds = 10
    /// How long `rollout plan` and `rollout create` wait for the agents' `apt-get -s` answers;
    /// 0 asks none (the plan then says nothing about dependencies).
    public var planSimulationTimeoutSeconds = 20
    /// How long after a rollout ends its hosts keep the packages its applies replaced, for
    /// `sluicectl rollout revert`; while it runs they always keep them.
    public var savedPackageRetentionMs: Int64 = 7 * 86400 * 1000
    /// Full inventory reports one host may send: `burst` at once, refilled at `perSecond`
    /// (one a minute); a report costs one per started MiB of its body. A real agent sends one
    /// when its packages changed, after an apply or a refresh of apt's lists; an unchanged
    /// inventory is confirmed by its digest, which costs nothing here.
    public var inventoryBudget = RateLimit(perSecond: 1.0 / 60, burst: 10)
    /// A host's changes of health are audited four at once, then one per interval (the
    /// others counted and written with the next event): see `HealthBeat.auditIntervalMs`.
    public var healthAuditIntervalMs: Int64 = HealthBeat.defaultAuditIntervalMs

    public init() {}

    /// Files for HTTPS and, optionally, mutual TLS.
    public struct TLSSettings: Sendable, Equatable {
        /// The server certificate (PEM, chain allowed) and its key.
        public var certificate: String
        public var key: String
        /// The private CA's certificate: client certificates are verified against it.
        public var authority: String?
        /// The CA's key: when given, enrollment signs each agent's client certificate.
        public var authorityKey: String?
        /// Agent routes then refuse a host that does not present its own client certificate.
        public var requireClientCertificates = false

        public init(certificate: String, key: String, authority: String? = nil, authorityKey: String? = nil, requireClientCertificates: Bool = false) {
            self.certificate = certificate
            self.key = key
            self.authority = authority
            self.authorityKey = authorityKey
            self.requireClientCertificates = requireClientCertificates
        }

        /// Refuses combinations that cannot work.
        public func check() throws(InvalidInput) {
            if authorityKey != nil && authority == nil { throw InvalidInput("the CA key (ca_key, --tls-ca-key) needs the CA certificate (ca, --tls-ca)") }
            if requireClientCertificates && authority == nil {
                throw InvalidInput("requiring client certificates needs the CA certificate (ca, --tls-ca) to verify them against")
            }
        }
    }

    /// The caps ``ConnectionGuard`` applies.
    public struct ConnectionLimits: Sendable, Equatable {
        public var maxConnections: Int
        public var maxPerAddress: Int
        public var unauthenticatedTimeout: TimeAmount

        /// Sockets open at most, counting those closed but not yet released: the cap and a
        /// margin of half the reserved descriptors (at most a quarter of the cap).
        public var maxSockets: Int { maxConnections + min(maxConnections / 4, ControllerSettings.reservedDescriptors / 2) }

        public init(maxConnections: Int, maxPerAddress: Int, unauthenticatedTimeout: TimeAmount) {
            self.maxConnections = maxConnections
            self.maxPerAddress = maxPerAddress
            self.unauthenticatedTimeout = unauthenticatedTimeout
        }
    }

    /// Descriptors kept for everything but clients: the database's connections and their
    /// journals, the event loops, the webhook's client, logs and the files read at start.
    public static let reservedDescriptors = 64

    /// The configured caps, or, for those not configured, caps that keep every socket within
    /// the process's open-files limit: `max_connections` the limit less
    /// ``reservedDescriptors`` (at least 16), `max_connections_per_address` an eighth of that
    /// (at least 8).
    public func connectionLimits(openFileLimit: UInt64) -> ConnectionLimits {
        let total = maxConnections ?? max(16, Int(min(openFileLimit, UInt64(Int32.max))) - Self.reservedDescriptors)
        return ConnectionLimits(
            maxConnections: total, maxPerAddress: maxConnectionsPerAddress ?? max(8, total / 8),
            unauthenticatedTimeout: .seconds(Int64(unauthenticatedTimeoutSeconds)))
    }

    /// A token bucket: `burst` requests at once, refilled at `perSecond`.
    public struct RateLimit: Sendable, Equatable {
        public var perSecond: Double
        public var burst: Double
        public init(perSecond: Double, burst: Double) {
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    /// Refuses to listen off loopback without TLS: tokens would cross the network in clear.
    public func checkTransport() throws(InvalidInput) {
        try tls?.check()
        if tls == nil && !isLoopbackOnly {
            throw InvalidInput(
                "refusing to serve plain HTTP on \(host):\(port): give --tls-cert and --tls-key (create them with `sluiced tls init`), or listen on loopback")
        }
    }

    /// `host:port`, `[v6]:port` or `:port`.
    public mutating func setListen(_ text: String) throws(InvalidInput) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw InvalidInput("invalid listen address \(quoted(text)): expected HOST:PORT, such as 127.0.0.1:8460")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    /// Whether clients can only reach the controller from this machine.
    public var isLoopbackOnly: Bool { Loopback.contains(host) }

    /// Applies a YAML config file: `listen`, `db`, `report_interval`, `stale_after`,
    /// `policies` (a directory), `alert_webhook`, `tls` (`cert`, `key`, `ca`, `ca_key`,
    /// `require_client_cert`), `rate_limit` and `enrollment_rate_limit` (`per_second`,
    /// `burst`), `idle_timeout`, `plan_simulation_timeout`, `alert_secret_file`,
    /// `max_connections`, `max_connections_per_address`, `unauthenticated_timeout`, `saved_package_retention`,
    /// `inventory_budget` (`per_minute`, `burst`), `health_audit_interval`.
    public mutating func apply(configYAML text: String, file: String) throws(InvalidInput) {
        let root = try YAMLValue.load(text, file: file).mapping(
            allowed: ["listen", "db", "report_interval", "stale_after", "policies", "alert_webhook", "tls", "rate_limit", "enrollment_rate_limit", "idle_timeout",
                "plan_simulation_timeout", "alert_secret_file", "max_connections", "max_connections_per_address", "unauthenticated_timeout",
                "saved_package_retention", "inventory_budget", "health_audit_interval",
            ])
        if let value = root["inventory_budget"] {
            let map = try value.mapping(allowed: ["per_minute", "burst"])
            guard let perMinute = map["per_minute"], let burst = map["burst"] else { throw value.error("needs per_minute and burst") }
            let rate = try perMinute.int(), size = try burst.int()
            guard (1...10_000).contains(rate) else { throw perMinute.error("must be between 1 and 10000") }
            guard (8...100_000).contains(size) else { throw burst.error("must be between 8 and 100000 (a report of the largest body allowed, 8 MiB, costs 8)") }
            inventoryBudget = RateLimit(perSecond: Double(rate) / 60, burst: Double(size))
        }
        if let value = root["health_audit_interval"] {
            let seconds = try value.seconds()
            guard (0...86400).contains(seconds) else { throw value.error("must be between 0s and 1d") }
            healthAuditIntervalMs = seconds * 1000
        }
        if let value = root["max_connections"] {
            let count = try value.int()
            guard (16...10_000_000).contains(count) else { throw value.error("must be between 16 and 10000000") }
            maxConnections = count
        }
        if let value = root["max_connections_per_address"] {
            let count = try value.int()
            guard (1...10_000_000).contains(count) else { throw value.error("must be between 1 and 10000000") }
            maxConnectionsPerAddress = count
        }
        if let value = root["unauthenticated_timeout"] {
            let seconds = try value.seconds()
            guard (1...300).contains(seconds) else { throw value.error("must be between 1s and 5m") }
            unauthenticatedTimeoutSeconds = Int(seconds)
        }
        for (key, path) in [("rate_limit", \ControllerSettings.rateLimit), ("enrollment_rate_limit", \ControllerSettings.enrollmentRateLimit)] {
            guard let value = root[key] else { continue }
            let map = try value.mapping(allowed: ["per_second", "burst"])
            guard let perSecond = map["per_second"], let burst = map["burst"] else { throw value.error("needs per_second and burst") }
            let rate = try perSecond.int(), size = try burst.int()
            guard (1...100_000).contains(rate) else { throw perSecond.error("must be between 1 and 100000") }
            guard (1...1_000_000).contains(size) else { throw burst.error("must be between 1 and 1000000") }
            self[keyPath: path] = RateLimit(perSecond: Double(rate), burst: Double(size))
        }
        if let value = root["idle_timeout"] {
            let seconds = try value.seconds()
            guard (1...3600).contains(seconds) else { throw value.error("must be between 1s and 1h") }
            idleTimeoutSeconds = Int(seconds)
        }
        if let value = root["plan_simulation_timeout"] {
            let seconds = try value.seconds()
            guard (0...300).contains(seconds) else { throw value.error("must be between 0s and 5m") }
            planSimulationTimeoutSeconds = Int(seconds)
        }
        if let value = root["saved_package_retention"] {
            let seconds = try value.seconds()
            guard (0...365 * 86400).contains(seconds) else { throw value.error("must be between 0s and 365d") }
            savedPackageRetentionMs = seconds * 1000
        }
        if let tls = root["tls"] {
            let map = try tls.mapping(allowed: ["cert", "key", "ca", "ca_key", "require_client_cert"])
            guard let cert = map["cert"], let key = map["key"] else { throw tls.error("needs cert and key (PEM files)") }
            var settings = TLSSettings(certificate: try cert.string(), key: try key.string())
            settings.authority = try map["ca"]?.string()
            settings.authorityKey = try map["ca_key"]?.string()
            settings.requireClientCertificates = try map["require_client_cert"]?.bool() ?? false
            do { try settings.check() } catch { throw tls.error(error.message) }
            self.tls = settings
        }
        if let listen = root["listen"] {
            do { try setListen(try listen.string()) } catch { throw listen.error(error.message) }
        }
        if let db = root["db"] {
            databasePath = try db.string()
            guard !databasePath.isEmpty else { throw db.error("must not be empty") }
        }
        if let interval = root["report_interval"] {
            let seconds = try interval.seconds()
            guard (5...86400).contains(seconds) else { throw interval.error("must be between 5s and 1d") }
            reportIntervalSeconds = Int(seconds)
        }
        if let policies = root["policies"] { policiesDirectory = try policies.string() }
        if let webhook = root["alert_webhook"] {
            let text = try webhook.string()
            guard text.hasPrefix("http://") || text.hasPrefix("https://") else { throw webhook.error("must be an http(s) URL") }
            alertWebhook = text
        }
        if let secret = root["alert_secret_file"] {
            alertSecretFile = try secret.string()
            guard alertSecretFile?.isEmpty == false else { throw secret.error("must not be empty") }
        }
        if let stale = root["stale_after"] {
            let seconds = try stale.seconds()
            guard (10...30 * 86400).contains(seconds) else { throw stale.error("must be between 10s and 30d") }
            staleAfterMs = seconds * 1000
        }
    }

    /// The webhook alerts go to, with its signing secret read from `alert_secret_file`; `nil` without a webhook.
    /// - Throws: `InvalidInput` naming what is wrong: a webhook without a secret file, or a
    ///   secret file that is missing, empty, or readable by every user.
    public func webhook() throws(InvalidInput) -> AlertDelivery.Webhook? {
        guard let url = alertWebhook else { return nil }
        guard let path = alertSecretFile else {
            throw InvalidInput("alert_webhook needs alert_secret_file: alerts are signed (HMAC-SHA256) so the receiver can trust them; create one with `head -c 32 /dev/urandom | base64 > FILE`")
        }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), let mode = attributes[.posixPermissions] as? Int else {
            throw InvalidInput("alert_secret_file \(path): no such file")
        }
        guard mode & 0o004 == 0 else { throw InvalidInput("alert_secret_file \(path) is readable by every user: chmod o-r it") }
        guard let data = FileManager.default.contents(atPath: path) else { throw InvalidInput("alert_secret_file \(path): cannot read it") }
        let secret = Array(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        guard secret.count >= 16 else { throw InvalidInput("alert_secret_file \(path): the secret is shorter than 16 bytes") }
        return AlertDelivery.Webhook(url: url, secret: secret)
    }
}
