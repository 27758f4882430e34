import SluiceCore
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
    /// Where halts and silent hosts are posted as JSON.
    public var alertWebhook: String?

    public init() {}

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
    public var isLoopbackOnly: Bool { host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.") }

    /// Applies a YAML config file: `listen`, `db`, `report_interval`, `stale_after`,
    /// `policies` (a directory), `alert_webhook`.
    public mutating func apply(configYAML text: String, file: String) throws(InvalidInput) {
        let root = try YAMLValue.load(text, file: file).mapping(allowed: ["listen", "db", "report_interval", "stale_after", "policies", "alert_webhook"])
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
        if let stale = root["stale_after"] {
            let seconds = try stale.seconds()
            guard seconds >= 10 else { throw stale.error("must be at least 10s") }
            staleAfterMs = seconds * 1000
        }
    }
}
