import SluiceCore
import Synchronization

/// Tells waiters that something changed: long-polling agents and the reconciler look
/// again at once instead of at their next timer.
///
/// Waiters park on a continuation and cost nothing until a signal, their timeout or their
/// task's cancellation resumes them: 10,000 long-polling agents are 10,000 parked
/// continuations, not 10,000 timers firing. A change that concerns a few hosts only
/// (`signal(hosts:)`: an agent's step report, the reconciler starting hosts) wakes those
/// hosts' long-polls and the general waiters, not the whole fleet's.
public final class ChangeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiter: UInt64 = 0
        /// Parked waiters by the number each drew (newer waiters draw higher numbers), general
        /// ones and those of one host's long-poll. Whoever resumes a waiter removes it first,
        /// so nothing is resumed twice.
        var general: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var byHost: [HostID: [UInt64: CheckedContinuation<Void, Never>]] = [:]
        /// Set once by `closeLongPolls` (graceful shutdown), never cleared.
        var longPollsClosed = false

        /// Removes and returns the woken waiters, newest first. Long-polls park for many
        /// seconds while the reconciler parks again after every pass, so it runs ahead of
        /// thousands of woken long-polls, and what it changes (a halt) is what they then see.
        mutating func take(hosts: [HostID]?) -> [CheckedContinuation<Void, Never>] {
            generation &+= 1
            var woken = general
            general.removeAll(keepingCapacity: true)
            if let hosts {
                for host in hosts {
                    if let parked = byHost.removeValue(forKey: host) { woken.merge(parked) { a, _ in a } }
                }
            } else {
                for parked in byHost.values { woken.merge(parked) { a, _ in a } }
                byHost.removeAll(keepingCapacity: true)
            }
            return woken.sorted { $0.key > $1.key }.map(\.value)
        }
    }

    private let state = Mutex(State())

    public init() {}

    /// Moves on every signal: a waiter passes the value it saw before looking.
    public var current: UInt64 { state.withLock { $0.generation } }

    /// How many waiters are parked now (for tests).
    var waiterCount: Int { state.withLock { $0.general.count + $0.byHost.values.reduce(0) { $0 + $1.count } } }

    /// Whether `closeLongPolls` was called: a long-poll then answers with what it has.
    public var longPollsClosed: Bool { state.withLock { $0.longPollsClosed } }

    /// Graceful shutdown: every host's long-poll, parked now or starting later, returns at once
    /// (the agent polls again, and finds the controller back or another one), so a stop does not
    /// wait for the longest poll's wait to run out. General waiters (the reconciler) are left alone.
    public func closeLongPolls() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.longPollsClosed = true
            let parked = state.byHost.values.flatMap(\.values)
            state.byHost.removeAll()
            return parked
        }
        for continuation in woken { continuation.resume() }
    }

    /// Anything may have changed: everyone waiting looks again.
    public func signal() {
        for continuation in state.withLock({ $0.take(hosts: nil) }) { continuation.resume() }
    }

    /// Only these hosts' assignments changed, if any (and the state the reconciler reads):
    /// the general waiters and these hosts' long-polls look again; other hosts' do not.
    public func signal(hosts: [HostID]) {
        for continuation in state.withLock({ $0.take(hosts: hosts) }) { continuation.resume() }
    }

    /// Returns when any signal comes after `seen`, `timeout` passes, or the calling task is
    /// cancelled, whichever is first; at once if one already came.
    public func wait(after seen: UInt64, timeout: Duration) async {
        await wait(host: nil, after: seen, timeout: timeout)
    }

    /// A host's long-poll: returns when `signal()` or a `signal(hosts:)` naming `host` comes
    /// after `seen`, `timeout` passes, the calling task is cancelled, or `closeLongPolls()` is
    /// called; at once if the generation already moved past `seen` (then for any host: the
    /// caller looks again) or long-polls are closed.
    public func wait(host: HostID?, after seen: UInt64, timeout: Duration) async {
        guard timeout > .zero, current == seen, !Task.isCancelled, host == nil || !longPollsClosed else { return }
        // Two children: the park, and a timer that ends it by cancelling it. Cancelling the
        // caller cancels both.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.park(host: host, after: seen) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Parks until a signal for `host` (or for everyone) moves the generation past `seen`,
    /// this task is cancelled, or (for a host) long-polls are closed.
    private func park(host: HostID?, after seen: UInt64) async {
        let id = state.withLock { state in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Checked under the lock that the signals and the cancellation handler take: a
                // signal or a cancellation that came first is seen here, one that comes later
                // finds the continuation registered.
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != seen || Task.isCancelled || (host != nil && state.longPollsClosed) { return true }
                    if let host {
                        state.byHost[host, default: [:]][id] = continuation
                    } else {
                        state.general[id] = continuation
                    }
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let host else { return state.general.removeValue(forKey: id) }
                let removed = state.byHost[host]?.removeValue(forKey: id)
                if state.byHost[host]?.isEmpty == true { state.byHost[host] = nil }
                return removed
            }
            continuation?.resume()
        }
    }
}
