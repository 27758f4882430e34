import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SluiceAPI
import SluiceCore
import SluiceStore

/// Delivers the alert outbox to the webhook: oldest first, one at a time, each retried with
/// backoff (1 s doubling up to 5 min) until the receiver answers 2xx, across restarts (the
/// outbox is in the database). A later alert never overtakes an earlier one.
///
/// Each request is signed: `X-Sluice-Signature: sha256=HEX`, the HMAC-SHA256 of the body
/// with the configured secret; `X-Sluice-Delivery` is the alert's id, the same on retries.
public final class AlertDelivery: Service, Sendable {
    public struct Webhook: Sendable {
        public var url: String
        public var secret: [UInt8]
        public init(url: String, secret: [UInt8]) {
            self.url = url
            self.secret = secret
        }
    }

    static let maxBackoffMs: Int64 = 300_000
    static let requestTimeout: TimeAmount = .seconds(10)

    let database: SluiceDatabase
    let clock: any WallClock
    let webhook: Webhook?
    let signal: ChangeSignal
    let logger: Logger

    /// - Parameter webhook: `nil` when no `alert_webhook` is configured: alerts are then
    ///   recorded as not sent.
    public init(database: SluiceDatabase, clock: any WallClock, webhook: Webhook?, signal: ChangeSignal, logger: Logger) {
        self.database = database
        self.clock = clock
        self.webhook = webhook
        self.signal = signal
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let seen = signal.current
            var wait = Duration.seconds(1)
            do { wait = try await deliverDue() } catch { logger.error("alert delivery: \(error)") }
            // New alerts are written by passes that signal; retries wake on their own time.
            let signal = self.signal
            await withGracefulShutdownHandler {
                await signal.wait(after: seen, timeout: min(wait, .seconds(5)))
            } onGracefulShutdown: {
                signal.signal()
            }
        }
    }

    /// Sends every alert that is due, in order, and stops at the first that fails.
    /// - Returns: how long until the next attempt is due (a minute when nothing waits).
    @discardableResult
    public func deliverDue() async throws -> Duration {
        guard let webhook else {
            let dropped = try database.dropPendingAlerts(reason: "no alert_webhook configured")
            if dropped > 0 { logger.info("\(dropped) alert(s) not sent: no alert_webhook configured (the audit log has the events)") }
            return .seconds(60)
        }
        while let pending = try database.nextPendingAlert() {
            let now = clock.nowMs()
            guard pending.nextAttemptAtMs <= now else { return .milliseconds(pending.nextAttemptAtMs - now) }
            do {
                try await post(pending.alert, to: webhook)
                try database.alertDelivered(pending.alert.id, nowMs: clock.nowMs())
                if pending.attempts > 0 { logger.notice("alert \(pending.alert.id) (\(pending.alert.kind)) delivered after \(pending.attempts + 1) attempts") }
            } catch {
                let backoff = min(Int64(1000) << min(pending.attempts, 20), Self.maxBackoffMs)
                try database.alertFailed(pending.alert.id, error: "\(error)", retryAtMs: clock.nowMs() + backoff)
                if pending.attempts == 0 || pending.attempts % 10 == 0 {
                    logger.warning("alert \(pending.alert.id) (\(pending.alert.kind)) not delivered (attempt \(pending.attempts + 1)): \(error); retrying, later alerts wait for it")
                }
                return .milliseconds(backoff)
            }
        }
        return .seconds(60)
    }

    /// The body is the alert as JSON with sorted keys: the same bytes on every retry.
    public static func body(_ alert: Alert) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(alert)
    }

    /// `sha256=` and the hexadecimal HMAC-SHA256 of `body` with `secret`.
    public static func signature(of body: Data, secret: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    struct RefusedError: Error, CustomStringConvertible {
        let status: HTTPResponseStatus
        var description: String { "the webhook answered \(status.code) \(status.reasonPhrase)" }
    }

    func post(_ alert: Alert, to webhook: Webhook) async throws {
        let body = try Self.body(alert)
        var request = HTTPClientRequest(url: webhook.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "sluiced/\(SluiceVersion.current)")
        request.headers.add(name: "X-Sluice-Delivery", value: String(alert.id))
        request.headers.add(name: "X-Sluice-Event", value: alert.kind)
        request.headers.add(name: "X-Sluice-Signature", value: Self.signature(of: body, secret: webhook.secret))
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: Self.requestTimeout)
        // The answer's body is not used; read a little of it so the connection can be reused.
        _ = try? await response.body.collect(upTo: 64 * 1024)
        guard (200..<300).contains(response.status.code) else { throw RefusedError(status: response.status) }
    }
}
