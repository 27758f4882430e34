import Foundation
import SluiceCore
import SluiceYAML

/// How the agent reaches its controller and who it says it is. Built from defaults, then
/// `/etc/sluice/agent.yaml`, then flags, each overriding the last.
public struct AgentConfiguration: Sendable, Equatable {
    public static let defaultPath = "/etc/sluice/agent.yaml"
    /// The agent's own directory, never shared with the controller (whose is `/var/lib/sluice`).
    public static let defaultStateDirectory = "/var/lib/sluice-agent"

    public var controller: String?
    public var hostID: HostID?
    public var labels: [String: String] = [:]
    /// Its secret, apply journal and lock, saved packages for rollback, held-restart log.
    public var stateDirectory = Self.defaultStateDirectory
    public var reportIntervalSeconds: Int64 = 60
    /// How often the agent says it is alive and healthy.
    public var heartbeatSeconds: Int64 = 10
    /// Bootstrap token for the first enrollment; not needed once enrolled.
    public var enrollToken: String?
    /// The private CA (PEM file) the controller's https certificate must chain to; the
    /// system's trust store when nil.
    public var controllerCA: String?
    /// How long the controller may stay unreachable before the agent hands its host back to
    /// unattended-upgrades (see `UnattendedUpgradesHandover`).
    public var orphanAfterSeconds: Int64 = 7 * 86400

    public init() {}

    static let keys = [
        "controller", "controller_ca", "host_id", "labels", "state_dir", "report_interval", "heartbeat_interval", "orphan_after", "enroll_token",
        "enroll_token_file",
    ]

    /// Applies the YAML config file's keys: `controller`, `controller_ca`, `host_id`, `labels`, `state_dir`,
    /// `report_interval` (how often the inventory is read; it is sent when it changed, see
    /// `InventoryResend`), `heartbeat_interval`, `orphan_after`, `enroll_token` or `enroll_token_file`.
    public mutating func apply(configYAML text: String, file: String) throws(InvalidInput) {
        let root = try YAMLValue.load(text, file: file).mapping(allowed: Self.keys)
        if let value = root["controller"] { controller = try value.string() }
        if let value = root["controller_ca"] { controllerCA = try value.string() }
        if let value = root["host_id"] {
            do { hostID = try HostID(parsing: try value.string()) } catch { throw value.error(error.message) }
        }
        if let value = root["labels"] {
            let map = try value.stringMap()
            do { _ = try Labels(validating: map) } catch { throw value.error(error.message) }
            labels = map
        }
        if let value = root["state_dir"] { stateDirectory = try value.string() }
        if let value = root["report_interval"] {
            let seconds = try value.seconds()
            guard (5...86400).contains(seconds) else { throw value.error("must be between 5s and 1d") }
            reportIntervalSeconds = seconds
        }
        if let value = root["heartbeat_interval"] {
            let seconds = try value.seconds()
            guard (1...600).contains(seconds) else { throw value.error("must be between 1s and 10m") }
            heartbeatSeconds = seconds
        }
        if let value = root["orphan_after"] {
            let seconds = try value.seconds()
            guard (60...365 * 86400).contains(seconds) else { throw value.error("must be between 1m and 365d") }
            orphanAfterSeconds = seconds
        }
        if let value = root["enroll_token"] { enrollToken = try value.string() }
        if let value = root["enroll_token_file"] {
            let path = try value.string()
            do {
                enrollToken = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw value.error("cannot read \(path): \(error.localizedDescription)")
            }
        }
    }

    /// The host id to use: the configured one, else this machine's host name.
    public func resolvedHostID() throws(InvalidInput) -> HostID {
        if let hostID { return hostID }
        let name = localHostName().lowercased()
        do { return try HostID(parsing: name) } catch {
            throw InvalidInput("this machine's host name \(quoted(name)) is not a valid host id; set host_id in the config or --host-id")
        }
    }
}

func localHostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return "" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
