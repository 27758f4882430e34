import Synchronization

/// Tells waiters that something changed: long-polling agents and the reconciler look
/// again at once instead of at their next timer.
///
/// Waiters park on a continuation and cost nothing until a signal, their timeout or their
/// task's cancellation resumes them: 10,000 long-polling agents are 10,000 parked
/// continuations, not 10,000 timers firing.
public final class ChangeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiter: UInt64 = 0
        /// Each parked waiter, by the number it drew; removed by whoever resumes it, so
        /// nothing is resumed twice.
        var waiting: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Moves on every `signal()`: a waiter passes the value it saw before looking.
    public var current: UInt64 { state.withLock { $0.generation } }

    /// How many waiters are parked now (for tests).
    var waiterCount: Int { state.withLock { $0.waiting.count } }

    /// Something changed: everyone waiting looks again.
    ///
    /// The newest waiters are resumed first. Long-polls park for many seconds while the
    /// reconciler parks again after every pass, so it runs ahead of thousands of woken
    /// long-polls, and what it changes (a halt) is what most of them then see.
    public func signal() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            guard !state.waiting.isEmpty else { return [] }
            let woken = state.waiting.sorted { $0.key > $1.key }.map(\.value)
            state.waiting.removeAll(keepingCapacity: true)
            return woken
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns when the generation moves past `seen`, `timeout` passes, or the calling task
    /// is cancelled, whichever is first; at once if it already moved.
    public func wait(after seen: UInt64, timeout: Duration) async {
        guard timeout > .zero, current == seen, !Task.isCancelled else { return }
        // Two children: the park, and a timer that ends it by cancelling it. Cancelling the
        // caller cancels both.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.park(after: seen) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Parks until a signal moves the generation past `seen`, or this task is cancelled.
    private func park(after seen: UInt64) async {
        let id = state.withLock { state in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Checked under the lock that `signal` and the cancellation handler take: a
                // signal or a cancellation that came first is seen here, one that comes later
                // finds the continuation registered.
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != seen || Task.isCancelled { return true }
                    state.waiting[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiting.removeValue(forKey: id) }?.resume()
        }
    }
}
