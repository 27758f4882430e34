import Synchronization

/// Tells waiters that something changed: long-polling agents and the reconciler look
/// again at once instead of at their next timer.
public final class ChangeSignal: Sendable {
    private let generation = Atomic<UInt64>(0)

    public init() {}

    public var current: UInt64 { generation.load(ordering: .acquiring) }

    /// Something changed: everyone waiting looks again.
    public func signal() { generation.add(1, ordering: .releasing) }

    /// Returns when the generation moves past `seen` or `timeout` passes, whichever is first.
    /// Checks every 20 ms: cheap (one atomic load) and well inside the one-second promise.
    public func wait(after seen: UInt64, timeout: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while current == seen && clock.now < deadline {
            do { try await Task.sleep(for: .milliseconds(20)) } catch { return }
        }
    }
}
