import Logging

/// swift-log's `StreamLogHandler`, but metadata is formatted when a message is written, not
/// each time it is set.
///
/// Hummingbird gives every request's logger a request id; `StreamLogHandler` re-renders its
/// whole metadata on every such change, which was about 2.5 % of the controller's CPU for a
/// heartbeat that logs nothing. The lines written are `StreamLogHandler`'s, byte for byte.
public struct DeferredMetadataLogHandler: LogHandler {
    private var stream: StreamLogHandler
    public var metadata: Logger.Metadata = [:]

    public init(_ stream: StreamLogHandler) {
        self.stream = stream
        self.metadata = stream.metadata
    }

    /// What sluiced logs with: standard error, as swift-log's default.
    public static func standardError(label: String) -> DeferredMetadataLogHandler {
        DeferredMetadataLogHandler(.standardError(label: label))
    }

    public var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var writer = stream
        writer.metadata = metadata
        writer.log(event: event)
    }
}
