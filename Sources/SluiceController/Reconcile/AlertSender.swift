import Foundation
import Logging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What a webhook receives, as JSON.
public struct Alert: Sendable, Codable, Equatable {
    public var kind: String
    public var rollout: Int64?
    public var host: String?
    public var message: String
    public var atMs: Int64
}

/// Posts alerts to the configured webhook as JSON, retrying with backoff, without ever
/// blocking the reconciler.
public final class AlertSender: Sendable {
    let url: URL
    let logger: Logger
    let attempts: Int

    public init(url: URL, logger: Logger, attempts: Int = 5) {
        self.url = url
        self.logger = logger
        self.attempts = attempts
    }

    public func send(_ alert: Alert) {
        let url = url, logger = logger, attempts = attempts
        Task.detached {
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try? JSONEncoder().encode(alert)
            for attempt in 1...attempts {
                if let (_, response) = try? await URLSession.shared.data(for: request),
                    let http = response as? HTTPURLResponse, (200..<300).contains(http.statusCode)
                {
                    return
                }
                logger.warning("alert webhook attempt \(attempt) of \(attempts) failed for \(alert.kind)")
                try? await Task.sleep(for: .seconds(1 << min(attempt, 5)))
            }
            logger.error("alert not delivered after \(attempts) attempts: \(alert.message)")
        }
    }
}
