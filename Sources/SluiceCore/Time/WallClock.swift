import Foundation
import Synchronization

/// Where wall-clock instants that get stored come from. Injected everywhere, so tests
/// drive soak timers and staleness without sleeping.
public protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch, UTC.
    func nowMs() -> Int64
}

/// The real time of the machine.
public struct SystemWallClock: WallClock {
    public init() {}
    public func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}

/// A clock that moves only when told to.
public final class ManualWallClock: WallClock {
    private let current: Mutex<Int64>
    public init(nowMs: Int64) { current = Mutex(nowMs) }
    public func nowMs() -> Int64 { current.withLock { $0 } }
    public func advance(byMs delta: Int64) { current.withLock { $0 += delta } }
    public func set(nowMs: Int64) { current.withLock { $0 = nowMs } }
}
