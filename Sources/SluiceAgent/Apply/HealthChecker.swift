#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import SluiceCore

/// What one health check found.
public struct HealthCheckResult: Sendable, Equatable {
    /// The check that ran.
    public var check: HealthCheck
    /// Whether it passed.
    public var passed: Bool
    /// One line or a bounded command output saying what was seen.
    public var output: String

    /// - Parameters:
    ///   - check: the check that ran.
    ///   - passed: whether it passed.
    ///   - output: what was seen.
    public init(check: HealthCheck, passed: Bool, output: String) {
        self.check = check
        self.passed = passed
        self.output = output
    }

    /// `dns www.example @127.0.0.1:53: no answer within 2 seconds`.
    public var summary: String { "\(check): \(passed ? "ok" : "FAILED"): \(output)" }
}

/// Runs the role's health checks: systemd unit active, command exit 0, TCP connect, HTTP
/// status, and a DNS query built in (a UDP query with a random id, no `dig` needed).
///
/// Commands and `systemctl` run inside the ``HostRoot``; network checks run from this
/// process (a chroot shares the host's network).
public struct HealthChecker: Sendable {
    /// Where commands run.
    public let root: HostRoot

    /// - Parameter root: where command and systemd checks run.
    public init(root: HostRoot) {
        self.root = root
    }

    /// Runs every check once, in order.
    /// - Parameter checks: the checks.
    /// - Returns: one result per check.
    public func runAll(_ checks: [HealthCheck]) async -> [HealthCheckResult] {
        var results: [HealthCheckResult] = []
        for check in checks { results.append(await run(check)) }
        return results
    }

    /// Runs the checks until all pass in one round, or `deadline` passes.
    /// - Parameters:
    ///   - checks: the checks.
    ///   - deadline: how long to keep trying.
    ///   - retryInterval: the pause between rounds.
    /// - Returns: the last round's results and whether it passed.
    public func waitUntilHealthy(_ checks: [HealthCheck], deadline: Duration, retryInterval: Duration) async
        -> (passed: Bool, results: [HealthCheckResult], rounds: Int)
    {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: deadline)
        var rounds = 0
        while true {
            rounds += 1
            let results = await runAll(checks)
            if results.allSatisfy(\.passed) { return (true, results, rounds) }
            if clock.now.advanced(by: retryInterval) > end { return (false, results, rounds) }
            // Sleep through cancellation: an apply that restarted services finishes its checks.
            try? await clock.sleep(for: retryInterval)
        }
    }

    /// Runs one check.
    /// - Parameter check: the check.
    /// - Returns: its result.
    public func run(_ check: HealthCheck) async -> HealthCheckResult {
        switch check {
        case .systemdUnit(let name):
            let result = await root.outcome(["systemctl", "is-active", "--", name], timeout: .seconds(30))
            let state = result.stdout.stripped()
            return HealthCheckResult(check: check, passed: result.status == 0 && state == "active",
                                     output: state.isEmpty ? keyLine(result) : "unit \(name) is \(state)")
        case .command(let spec):
            let result = await root.outcome(spec.argv, timeout: .seconds(Int64(spec.timeoutSeconds)))
            let output = combinedOutput(result)
            return HealthCheckResult(check: check, passed: result.status == 0,
                                     output: result.status == 0 ? (output.isEmpty ? "exit 0" : output) : "exit \(result.status): \(output)")
        case .tcp(let host, let port, let seconds):
            let result = await NetworkProbe.offload { NetworkProbe.connectTCP(host, port, timeout: .seconds(seconds)) }
            switch result {
            case .success: return HealthCheckResult(check: check, passed: true, output: "connected to \(host):\(port)")
            case .failure(let failure): return HealthCheckResult(check: check, passed: false, output: failure.message)
            }
        case .http(let url, let status, let seconds):
            return await http(check, url: url, expect: status, timeout: seconds)
        case .dns(let server, let port, let name, let allowNXDomain, let seconds):
            return await dns(check, server: server, port: port, name: name, allowNXDomain: allowNXDomain, timeout: seconds)
        }
    }

    private func dns(_ check: HealthCheck, server: String, port: Int, name: String, allowNXDomain: Bool, timeout: Int) async
        -> HealthCheckResult
    {
        let id = UInt16.random(in: 0...UInt16.max)
        let query: [UInt8]
        do { query = try DNSMessage.query(id: id, name: name) } catch {
            return HealthCheckResult(check: check, passed: false, output: error.message)
        }
        let exchanged = await NetworkProbe.offload { NetworkProbe.exchangeUDP(query, server: server, port: port, timeout: .seconds(timeout)) }
        switch exchanged {
        case .failure(let failure):
            return HealthCheckResult(check: check, passed: false, output: failure.message)
        case .success(let bytes):
            guard let response = DNSMessage.parse(bytes), response.id == id, response.isResponse else {
                return HealthCheckResult(check: check, passed: false, output: "malformed DNS response from \(server):\(port)")
            }
            let accepted = response.rcode == 0 || (allowNXDomain && response.rcode == 3)
            var text = "\(DNSMessage.rcodeName(response.rcode)), \(response.answerCount) answer(s)"
            if let address = response.firstIPv4 { text += ", \(name) A \(address)" }
            return HealthCheckResult(check: check, passed: accepted, output: text)
        }
    }

    private func http(_ check: HealthCheck, url text: String, expect: Int, timeout: Int) async -> HealthCheckResult {
        guard let url = URL(string: text) else { return HealthCheckResult(check: check, passed: false, output: "invalid URL \(quoted(text))") }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = TimeInterval(timeout)
        configuration.timeoutIntervalForResource = TimeInterval(timeout)
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalAndRemoteCacheData, timeoutInterval: TimeInterval(timeout))
        request.httpMethod = "GET"
        do {
            let (_, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else {
                return HealthCheckResult(check: check, passed: false, output: "not an HTTP response")
            }
            return HealthCheckResult(check: check, passed: http.statusCode == expect, output: "HTTP \(http.statusCode)")
        } catch {
            return HealthCheckResult(check: check, passed: false, output: "GET \(text): \(CommandError.oneLine(error.localizedDescription))")
        }
    }
}
