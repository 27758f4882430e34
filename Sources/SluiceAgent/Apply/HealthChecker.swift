import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceAPI
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

    /// A GET on a client and connection of its own, as a fresh probe of a just-restarted
    /// service should be (AsyncHTTPClient, not URLSession: FoundationNetworking would map
    /// libcurl and its TLS, Kerberos and LDAP libraries into every agent for this one probe).
    /// As URLSession did: up to 20 redirects followed, the body read to its end, the whole
    /// exchange within `timeout`. Unlike it, no proxy from the environment: the services
    /// checked are this host's. A refused connection fails at once rather than being retried.
    private func http(_ check: HealthCheck, url text: String, expect: Int, timeout: Int) async -> HealthCheckResult {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else { return HealthCheckResult(check: check, passed: false, output: "invalid URL \(quoted(text))") }
        let seconds = Int64(max(timeout, 1))
        var pool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(1))
        pool.retryConnectionEstablishment = false
        let client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: .init(
                redirectConfiguration: .follow(max: 20, allowCycles: true), timeout: .init(connect: .seconds(seconds), read: .seconds(seconds)),
                connectionPool: pool))
        var request = HTTPClientRequest(url: text)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: "sluice-agent/\(SluiceVersion.current)")
        let outcome: Result<Int, any Error>
        do { outcome = .success(try await Self.status(of: request, on: client, within: seconds)) } catch { outcome = .failure(error) }
        try? await client.shutdown()
        switch outcome {
        case .success(let status):
            return HealthCheckResult(check: check, passed: status == expect, output: "HTTP \(status)")
        case .failure(let error):
            return HealthCheckResult(check: check, passed: false, output: "GET \(text): \(CommandError.oneLine(Self.describe(error, timeout: seconds)))")
        }
    }

    /// The final status of `request`, its body drained (not kept), or a ``HTTPProbeTimeout``
    /// once `seconds` pass: AsyncHTTPClient's own deadline ends with the response head.
    private static func status(of request: HTTPClientRequest, on client: HTTPClient, within seconds: Int64) async throws -> Int {
        try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask {
                let response = try await client.execute(request, timeout: .seconds(seconds))
                for try await _ in response.body {}
                return Int(response.status.code)
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            defer { group.cancelAll() }
            guard case let status?? = try await group.next() else { throw HTTPProbeTimeout() }
            return status
        }
    }

    private static func describe(_ error: any Error, timeout: Int64) -> String {
        if error is HTTPProbeTimeout { return "no complete answer within \(timeout) s" }
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout { return "no complete answer within \(timeout) s" }
            if error == .connectTimeout { return "connection timed out after \(timeout) s" }
            if error == .redirectLimitReached { return "more than 20 redirects" }
        }
        return String(describing: error)
    }
}

/// The whole exchange of an HTTP check took longer than its timeout.
private struct HTTPProbeTimeout: Error {}
