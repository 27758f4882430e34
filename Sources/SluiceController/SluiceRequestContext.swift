import Hummingbird
import Logging
import NIOCore
import SluiceCore

/// The request context of every route: Hummingbird's storage plus who is calling.
public struct SluiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthenticationMiddleware` when a valid credential was presented.
    public var principal: Principal?
    /// The connection, for the client certificate of mutual TLS.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
        channel = source.channel
    }

    /// The caller's address, for rate limits of requests without a valid credential.
    var remoteAddress: String { channel.remoteAddress?.ipAddress ?? "unknown" }

    /// Inventory reports of large hosts reach a few MiB; nothing legitimate is larger.
    public var maxUploadSize: Int { 8 << 20 }
}
