import SluiceCore

/// Restarts the services whose restart the hold refused: with `systemctl` where systemd runs
/// the root, otherwise with the service's init script (or `invoke-rc.d` when there is none).
struct ServiceRestarter: Sendable {
    /// What one restart did.
    struct Restart: Sendable {
        var service: String
        var succeeded: Bool
        var output: String
    }

    let root: HostRoot
    let timeout: Duration

    /// Restarts each service in order, going on after a failure (the health checks decide).
    func restart(_ services: [String]) async -> [Restart] {
        var restarts: [Restart] = []
        for service in services where RestartHold.isServiceName(service) {
            let argv: [String]
            if root.hasSystemd {
                argv = ["systemctl", "restart", "--", service.contains(".") ? service : service + ".service"]
            } else if exists(root.file("/etc/init.d/" + service)) {
                argv = ["/etc/init.d/" + service, "restart"]
            } else {
                argv = ["invoke-rc.d", service, "restart"]
            }
            let result = await root.outcome(argv, environment: ["DEBIAN_FRONTEND": "noninteractive"], timeout: timeout)
            restarts.append(Restart(service: service, succeeded: result.status == 0, output: combinedOutput(result)))
        }
        return restarts
    }
}
