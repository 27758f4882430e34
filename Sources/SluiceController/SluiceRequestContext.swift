import Hummingbird
import Logging
import SluiceCore

/// The request context of every route: Hummingbird's storage plus who is calling.
public struct SluiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthenticationMiddleware` when a valid credential was presented.
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
    }

    /// Inventory reports of large hosts reach a few MiB; nothing legitimate is larger.
    public var maxUploadSize: Int { 8 << 20 }
}
