import Foundation
import SluiceCore

/// The health checks of this host's role, as its last assignment carried them from the
/// controller's policy, kept in the state directory so heartbeats go on checking after a restart.
struct RoleChecksFile: Sendable {
    let path: String

    init(stateDirectory: String) { path = stateDirectory + "/health-checks.json" }

    func load() -> [HealthCheck] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return (try? JSONDecoder().decode([HealthCheck].self, from: data)) ?? []
    }

    func save(_ checks: [HealthCheck]) {
        guard let data = try? JSONEncoder().encode(checks) else { return }
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else { return }
        _ = rename(temporary, path)
    }
}
