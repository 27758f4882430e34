import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One request of the load, ready to send: everything built before the clock starts.
struct BenchRequest: Sendable {
    var method: HTTPMethod
    var path: String
    var authorization: String?
    var body: ByteBuffer?
    /// Index into the report's kinds (heartbeat, inventory...).
    var kind: Int
}

/// An HTTP/1.1 client over loopback with a connection pool sized to the benchmark's
/// concurrency (AsyncHTTPClient on NIO's singleton event loops, one per core).
struct BenchHTTP: Sendable {
    let client: HTTPClient
    let base: String

    init(port: Int, connections: Int) {
        var configuration = HTTPClient.Configuration(
            connectionPool: .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: connections))
        configuration.httpVersion = .http1Only
        configuration.timeout = .init(connect: .seconds(30), read: .seconds(120))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        base = "http://127.0.0.1:\(port)"
    }

    /// Sends one request and reads the whole answer: its status and body.
    func send(_ request: BenchRequest, timeout: TimeAmount = .seconds(120)) async throws -> (status: Int, body: ByteBuffer) {
        var http = HTTPClientRequest(url: base + request.path)
        http.method = request.method
        if let authorization = request.authorization { http.headers.add(name: "Authorization", value: authorization) }
        if let body = request.body {
            http.headers.add(name: "Content-Type", value: "application/json")
            http.body = .bytes(body)
        }
        let response = try await client.execute(http, timeout: timeout)
        let body = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), body)
    }

    /// Sends `request` and reads its answer: nil for a 2xx, else what went wrong.
    func failure(sending request: BenchRequest) async -> String? {
        do {
            let answer = try await send(request)
            return (200..<300).contains(answer.status) ? nil : "HTTP \(answer.status): \(String(buffer: answer.body).prefix(200))"
        } catch {
            return "\(error)"
        }
    }

    func shutdown() async { try? await client.shutdown() }
}

/// Latencies and outcomes of one load run, per kind of request.
struct LoadResult {
    var kinds: [String]
    /// Nanoseconds, per kind.
    var latencies: [[Int]]
    var errors = 0
    var firstError: String?
    /// Due in an open loop but not sent: too many requests were already unanswered.
    var notSent = 0
    var seconds: Double

    var count: Int { latencies.reduce(0) { $0 + $1.count } }
    var rate: Double { Double(count) / seconds }

    init(kinds: [String], seconds: Double) {
        self.kinds = kinds
        self.latencies = kinds.map { _ in [] }
        self.seconds = seconds
    }

    /// One answer: its latency, or the failure it was.
    mutating func record(kind: Int, nanoseconds: Int, failure: String?) {
        if let failure {
            errors += 1
            firstError = firstError ?? failure
        } else {
            latencies[kind].append(nanoseconds)
        }
    }

    mutating func merge(_ other: LoadResult) {
        for k in latencies.indices { latencies[k] += other.latencies[k] }
        errors += other.errors
        firstError = firstError ?? other.firstError
        notSent += other.notSent
    }

    /// `p50 1.23 ms, p99 4.56 ms, max 7.89 ms` over all kinds, or one.
    func percentiles(kind: Int? = nil) -> (p50: Double, p99: Double, max: Double) {
        let all = (kind.map { [latencies[$0]] } ?? latencies).flatMap { $0 }.sorted()
        guard !all.isEmpty else { return (0, 0, 0) }
        func at(_ q: Double) -> Double { Double(all[min(all.count - 1, Int(Double(all.count) * q))]) / 1e6 }
        return (at(0.50), at(0.99), Double(all.last!) / 1e6)
    }

    func line(_ label: String) -> String {
        let all = percentiles()
        var text = String(
            format: "%@: %.0f requests/s (%d in %.1f s), p50 %.2f ms, p99 %.2f ms, max %.1f ms", label, rate, count, seconds, all.p50, all.p99, all.max)
        if kinds.count > 1 {
            let each = kinds.indices.map { k -> String in
                let p = percentiles(kind: k)
                return String(format: "%@ %d p50 %.2f p99 %.2f ms", kinds[k], latencies[k].count, p.p50, p.p99)
            }
            text += " [" + each.joined(separator: "; ") + "]"
        }
        if errors > 0 { text += "; \(errors) errors (first: \(firstError ?? "?"))" }
        if notSent > 0 { text += "; \(notSent) due but not sent (too many unanswered)" }
        return text
    }
}

enum LoadGenerator {
    /// `concurrency` workers, each sending its next request as soon as the last is answered,
    /// for `warmup` (not counted) and then `duration`. `next(n)` builds the n-th request.
    static func closedLoop(
        http: BenchHTTP, kinds: [String], concurrency: Int, warmup: Duration, duration: Duration, next: @escaping @Sendable (Int) -> BenchRequest
    ) async -> LoadResult {
        let counter = BenchCounter()
        let begin = ContinuousClock.now
        let measureFrom = begin + warmup, end = measureFrom + duration
        var result = LoadResult(kinds: kinds, seconds: benchSeconds(duration))
        await withTaskGroup(of: LoadResult.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var mine = LoadResult(kinds: kinds, seconds: 0)
                    while true {
                        let start = ContinuousClock.now
                        guard start < end else { break }
                        let request = next(counter.next())
                        let failure = await http.failure(sending: request)
                        let stop = ContinuousClock.now
                        guard start >= measureFrom, stop <= end else { continue }
                        mine.record(kind: request.kind, nanoseconds: Int(benchSeconds(stop - start) * 1e9), failure: failure)
                    }
                    return mine
                }
            }
            for await part in group { result.merge(part) }
        }
        return result
    }

    /// Requests sent at a fixed `rate` for `duration`, whatever the answers do (an open loop);
    /// each latency counts from when its request was due, so a stall is not hidden, and the
    /// rate achieved is over the time until the last answer.
    static func openLoop(
        http: BenchHTTP, kinds: [String], rate: Int, duration: Duration, maxInFlight: Int, firstRequest: Int,
        next: @escaping @Sendable (Int) -> BenchRequest
    ) async -> LoadResult {
        let begin = ContinuousClock.now + .milliseconds(10)
        let end = begin + duration
        let interval = Duration.seconds(1) / rate
        let collected = BenchShared(LoadResult(kinds: kinds, seconds: benchSeconds(duration)))
        let inFlight = BenchShared(0)
        await withDiscardingTaskGroup { group in
            var k = 0
            while true {
                let now = ContinuousClock.now
                var due = begin + interval * k
                if due >= end { break }
                while due <= now && due < end {
                    let request = next(firstRequest + k)
                    let scheduled = due
                    k += 1
                    due = begin + interval * k
                    // Bounded: past `maxInFlight` unanswered requests, a due request is counted, not sent.
                    guard inFlight.withLock({ count in
                        guard count < maxInFlight else { return false }
                        count += 1
                        return true
                    }) else {
                        collected.withLock { $0.notSent += 1 }
                        continue
                    }
                    group.addTask {
                        let failure = await http.failure(sending: request)
                        let done = ContinuousClock.now
                        inFlight.withLock { $0 -= 1 }
                        let nanoseconds = Int(benchSeconds(done - scheduled) * 1e9)
                        collected.withLock { result in
                            // The rate is over the time the answers took to come back.
                            result.seconds = max(result.seconds, benchSeconds(done - begin))
                            result.record(kind: request.kind, nanoseconds: nanoseconds, failure: failure)
                        }
                    }
                }
                try? await Task.sleep(until: min(due, end), clock: .continuous)
            }
        }
        return collected.withLock { $0 }
    }
}
