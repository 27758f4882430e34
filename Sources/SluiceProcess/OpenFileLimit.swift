#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files: every agent's long poll, every simulated agent and every
/// benchmark connection holds a socket, and the usual soft limit (1,024) is far below the hard one.
public enum OpenFileLimit {
    /// What `raiseToHardLimit()` found and did.
    public struct Change: Sendable, Equatable {
        /// The soft limit before, and after.
        public var before: UInt64
        public var after: UInt64
        /// The soft limit was below the hard one and could not be raised.
        public var failed: Bool

        public init(before: UInt64, after: UInt64, failed: Bool) {
            self.before = before
            self.after = after
            self.failed = failed
        }
    }

    /// The soft limit now; nil when it cannot be read.
    public static func current() -> UInt64? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        return UInt64(limit.rlim_cur)
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif

    /// Raises the soft limit to the hard one (an unprivileged process may). Nil when the limit
    /// cannot be read.
    @discardableResult
    public static func raiseToHardLimit() -> Change? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        let before = UInt64(limit.rlim_cur)
        guard limit.rlim_cur < limit.rlim_max else { return Change(before: before, after: before, failed: false) }
        limit.rlim_cur = limit.rlim_max
        let raised = setrlimit(resource, &limit) == 0
        guard getrlimit(resource, &limit) == 0 else { return nil }
        return Change(before: before, after: UInt64(limit.rlim_cur), failed: !raised)
    }
}
