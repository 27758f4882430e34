import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SluiceAPI
import SluiceCore
import SluiceTestSupport
import Synchronization
import Testing

@testable import SluiceController

/// Hostile input: bodies too large, too deep, with strings or lists too long; too many
/// requests from one identity; a client that connects and then stalls.
@Suite("Request limits")
struct RequestLimitTests {
    @Test func theShapeCheckAcceptsOrdinaryJSONAndNamesEachBrokenLimit() throws {
        var limits = JSONLimits()
        limits.maxDepth = 3
        limits.maxStringBytes = 8
        limits.maxListLength = 3
        try limits.check(Array(#"{"a": [1, 2, {"b": "short"}], "c": "x\"y"}"#.utf8))
        try limits.check(Array(#"["a,b,c,d"]"#.utf8))  // commas inside a string are not elements
        let cases: [(String, String)] = [
            (#"[[[[1]]]]"#, "nested deeper than 3"),
            (#"{"a": "123456789"}"#, "longer than 8 bytes"),
            (#"[1, 2, 3, 4]"#, "more than 3 elements"),
            (#"{"a": 1, "b": 2, "c": 3, "d": 4}"#, "more than 3 elements"),
            (#"[1234567890]"#, "longer than 8 bytes"),
            (#"["unterminated and long"#, "longer than 8 bytes"),
        ]
        // UTF-16 (with or without a byte order mark) would reach the decoder as other bytes than the ones checked.
        let littleEndian: [UInt8] = #"["a"]"#.utf16.flatMap { (unit: UInt16) -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let bigEndian: [UInt8] = #"["a"]"#.utf16.flatMap { (unit: UInt16) -> [UInt8] in [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
        #expect(throws: InvalidInput.self) { try limits.check([0xFF, 0xFE] + littleEndian) }
        #expect(throws: InvalidInput.self) { try limits.check(bigEndian) }
        for (body, expected) in cases {
            do {
                try limits.check(Array(body.utf8))
                Issue.record("\(body) passed")
            } catch {
                #expect(error.message.contains(expected), "\(body): \(error.message)")
            }
        }
    }

    @Test func aBucketAllowsItsBurstThenRefillsAtItsRate() {
        let limiter = RateLimiter(.init(perSecond: 2, burst: 3))
        let start = ContinuousClock.now
        for _ in 0..<3 { #expect(limiter.take("k", now: start) == nil) }
        #expect(limiter.take("k", now: start) == 0.5, "one request is due after half a second")
        #expect(limiter.take("other", now: start) == nil, "each key has its own bucket")
        #expect(limiter.take("k", now: start.advanced(by: .milliseconds(500))) == nil)
        #expect(limiter.take("k", now: start.advanced(by: .milliseconds(500))) != nil)
        #expect(limiter.take("k", now: start.advanced(by: .seconds(60))) == nil, "refilled, up to the burst")
    }

    @Test func aCostlyRequestTakesItsCostAndACostOverTheBurstTakesTheWholeBurst() {
        let limiter = RateLimiter(.init(perSecond: 1, burst: 10))
        let start = ContinuousClock.now
        #expect(limiter.take("k", cost: 6, now: start) == nil)
        #expect(limiter.take("k", cost: 6, now: start) == 2, "4 left: 2 s until 6")
        #expect(limiter.take("k", cost: 4, now: start) == nil)
        #expect(limiter.take("j", cost: 50, now: start) == nil, "taken as the whole burst")
        #expect(limiter.take("j", now: start) == 1)
    }

    /// A compromised host sending inventory after inventory, within its request rate: each
    /// full report costs one per MiB from a budget a real agent never exhausts.
    @Test func fullInventoriesOverAHostsBudgetGet429BeforeTheBodyIsReadAndWriteNothing() async throws {
        let harness = try ControllerHarness()
        let app = try harness.application { $0.inventoryBudget = .init(perSecond: 1.0 / 60, burst: 3) }
        try await app.test(.router) { client in
            let token = try await client.enroll("dns1", with: harness.enrollment)
            let other = try await client.enroll("dns2", with: harness.enrollment)
            func report(_ variant: Int) -> InventoryReport {
                Fixtures.report(candidates: [("bind9", "1:9.18.24-1", "1:9.18.2\(variant)-1", true)])
            }
            for variant in 0..<3 {
                let status = try await client.execute(uri: "/v1/hosts/dns1/inventory", method: .put, headers: bearer(token), body: jsonBody(report(variant))) {
                    Int($0.status.code)
                }
                #expect(status == 200)
            }
            let before = try harness.snapshot()
            let (status, code, retryAfter) = try await client.execute(
                uri: "/v1/hosts/dns1/inventory", method: .put, headers: bearer(token), body: jsonBody(report(7))
            ) { (Int($0.status.code), errorBody($0).code, $0.headers[.retryAfter].flatMap { Int($0) }) }
            #expect(status == 429)
            #expect(code == "inventory_budget")
            #expect(retryAfter.map { (55...60).contains($0) } == true, "one report refills in a minute: \(String(describing: retryAfter))")
            #expect(try harness.snapshot() == before)
            // Even a malformed body is refused for the budget, unread.
            let unread = try await client.execute(
                uri: "/v1/hosts/dns1/inventory", method: .put, headers: bearer(token), body: ByteBuffer(string: "{not json")
            ) { errorBody($0).code }
            #expect(unread == "inventory_budget")
            // Another host has its own budget; a 1.5 MiB body costs two of its three.
            let large = ByteBuffer(string: String(repeating: " ", count: 3 << 19) + String(decoding: try JSONEncoder().encode(report(1)), as: UTF8.self))
            let first = try await client.execute(uri: "/v1/hosts/dns2/inventory", method: .put, headers: bearer(other), body: large) { Int($0.status.code) }
            #expect(first == 200)
            let second = try await client.execute(uri: "/v1/hosts/dns2/inventory", method: .put, headers: bearer(other), body: large) {
                (Int($0.status.code), errorBody($0).code)
            }
            #expect(second.0 == 429 && second.1 == "inventory_budget")
            // Confirming an unchanged inventory by its digest costs nothing.
            let digest = InventoryConfirmation(digest: InventoryDigest.hex(of: report(2)), labels: nil)
            let confirmed = try await client.execute(uri: "/v1/hosts/dns1/inventory/digest", method: .put, headers: bearer(token), body: jsonBody(digest)) {
                Int($0.status.code)
            }
            #expect(confirmed == 200)
        }
    }

    @Test func aReportOverTheLargestInventoryARealHostHasGets400NamingTheList() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let token = try await client.enroll("dns1", with: harness.enrollment)
            var report = Fixtures.report()
            let package = report.installed[0]
            report.installed = (0...InventoryReport.maxPackages).map { index in
                var copy = package
                copy.name = try! PackageName(parsing: "pkg\(index)")
                return copy
            }
            let before = try harness.snapshot()
            let (status, message) = try await client.execute(uri: "/v1/hosts/dns1/inventory", method: .put, headers: bearer(token), body: jsonBody(report)) {
                (Int($0.status.code), errorBody($0).message)
            }
            #expect(status == 400)
            #expect(message == "installed: 20001 packages is more than the limit of 20000", "\(message)")
            #expect(try harness.snapshot() == before)
        }
    }

    @Test func theLimiterKeepsAtMostItsMaximumNumberOfKeys() {
        let limiter = RateLimiter(.init(perSecond: 1, burst: 10), maxKeys: 100)
        let start = ContinuousClock.now
        for i in 0..<1_000 { _ = limiter.take("address:\(i)", now: start.advanced(by: .milliseconds(i))) }
        #expect(limiter.keyCount <= 100)
    }

    @Test func aDeeplyNestedBodyGets400AndWritesNothing() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let token = try await client.enroll("dns1", with: harness.enrollment)
            let before = try harness.snapshot()
            let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
            let body = ByteBuffer(string: #"{"installed": "# + deep + "}")
            let (status, message) = try await client.execute(uri: "/v1/hosts/dns1/inventory", method: .put, headers: bearer(token), body: body) {
                (Int($0.status.code), errorBody($0).message)
            }
            #expect(status == 400)
            #expect(message.contains("nested deeper than"))
            let after = try harness.snapshot()
            #expect(after == before)
        }
    }

    @Test func aBodyOverTheUploadLimitGets413() async throws {
        let harness = try ControllerHarness()
        try await harness.application().test(.router) { client in
            let body = ByteBuffer(repeating: UInt8(ascii: " "), count: (8 << 20) + 1)
            let status = try await client.execute(uri: "/v1/tokens", method: .post, headers: bearer(harness.admin), body: body) {
                Int($0.status.code)
            }
            #expect(status == 413)
        }
    }

    @Test func anIdentityOverItsRateGets429WithRetryAfterAndOthersAreUnaffected() async throws {
        let harness = try ControllerHarness()
        let app = try harness.application { $0.rateLimit = .init(perSecond: 0.01, burst: 5) }
        try await app.test(.router) { client in
            for _ in 0..<5 {
                let status = try await client.execute(uri: "/v1/hosts", method: .get, headers: bearer(harness.admin)) { Int($0.status.code) }
                #expect(status == 200)
            }
            let (status, retryAfter, code) = try await client.execute(uri: "/v1/hosts", method: .get, headers: bearer(harness.admin)) {
                (Int($0.status.code), $0.headers[.retryAfter], errorBody($0).code)
            }
            #expect(status == 429)
            #expect(code == "rate_limited")
            #expect(retryAfter.flatMap(Int.init).map { $0 >= 1 } == true)
            // Another credential has its own bucket.
            let other = try await client.execute(uri: "/v1/hosts", method: .get, headers: bearer(harness.viewer)) { Int($0.status.code) }
            #expect(other == 200)
        }
    }

    @Test func wrongCredentialsAreRateLimitedByAddress() async throws {
        let harness = try ControllerHarness()
        let app = try harness.application { $0.rateLimit = .init(perSecond: 0.01, burst: 3) }
        try await app.test(.router) { client in
            var statuses: [Int] = []
            for _ in 0..<5 {
                statuses.append(
                    try await client.execute(uri: "/v1/hosts", method: .get, headers: bearer("sluice-op.aaaaaaaaaaaa.wrongwrongwrong")) {
                        Int($0.status.code)
                    })
            }
            #expect(statuses == [401, 401, 401, 429, 429])
        }
    }

    @Test func enrollmentIsRateLimitedPerAddress() async throws {
        let harness = try ControllerHarness()
        let app = try harness.application { $0.enrollmentRateLimit = .init(perSecond: 0.01, burst: 2) }
        try await app.test(.router) { client in
            _ = try await client.enroll("web1", with: harness.enrollment)
            _ = try await client.enroll("web2", with: harness.enrollment)
            let before = try harness.snapshot()
            let request = EnrollRequest(hostID: try HostID(parsing: "web3"), labels: Labels())
            let status = try await client.execute(uri: "/v1/enroll", method: .post, headers: bearer(harness.enrollment), body: jsonBody(request)) {
                Int($0.status.code)
            }
            #expect(status == 429)
            #expect(try harness.snapshot() == before)
        }
    }

    @Test func aClientThatStallsMidRequestIsDisconnected() async throws {
        let harness = try ControllerHarness()
        let port = Mutex(0)
        var settings = ControllerSettings()
        settings.port = 0
        settings.idleTimeoutSeconds = 1
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let app = try buildApplication(settings: settings, database: harness.database, clock: harness.clock, logger: logger, runReconciler: false) {
            bound in port.withLock { $0 = bound }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            while port.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            // Half a request line, then nothing: the server must hang up on its own.
            let bound = port.withLock { $0 }
            let closed = try await Task.detached { try StalledClient.sendsThenWaitsForClose(port: bound, text: "GET /v1/hea", waitSeconds: 10) }.value
            #expect(closed, "the connection was still open after 10 s")
            group.cancelAll()
        }
    }
}

/// A raw TCP client that sends a few bytes and then waits for the server to close.
enum StalledClient {
    static func sendsThenWaitsForClose(port: Int, text: String, waitSeconds: Int) throws -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw InvalidInput("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw InvalidInput("connect failed") }
        var timeout = timeval(tv_sec: waitSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = text.withCString { send(fd, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }  // orderly close by the server
            if n < 0 { return errno == ECONNRESET }  // reset counts as closed; a timeout does not
        }
    }
}
