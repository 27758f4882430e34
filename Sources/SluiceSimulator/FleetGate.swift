import Synchronization

/// At most `limit` holders at once, for the whole simulated fleet: thousands of hosts share
/// one process's file descriptors, and a heartbeat that waits here costs none. Waiters get
/// their turn in order; one whose task is cancelled while it waits leaves without a turn.
final class FleetGate: Sendable {
    private struct State {
        var available: Int
        var nextID: UInt64 = 0
        /// Waiters by number, and the numbers in arrival order from `head` (a number no
        /// longer in `waiting` left when its task was cancelled).
        var waiting: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var order: [UInt64] = []
        var head = 0

        /// The longest-waiting waiter still there, removed.
        mutating func popFirst() -> CheckedContinuation<Bool, Never>? {
            while head < order.count {
                let id = order[head]
                head += 1
                if let continuation = waiting.removeValue(forKey: id) {
                    compact()
                    return continuation
                }
            }
            compact()
            return nil
        }

        mutating func compact() {
            if head == order.count {
                order.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 1024 && head * 2 > order.count {
                order.removeFirst(head)
                head = 0
            }
        }
    }

    private let state: Mutex<State>

    init(limit: Int) { state = Mutex(State(available: limit)) }

    /// Waits for a turn. Returns false, holding none, when the task was cancelled first;
    /// after true, call `release()`.
    func acquire() async -> Bool {
        let id = state.withLock { state in
            state.nextID &+= 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now = state.withLock { state -> Bool? in
                    if Task.isCancelled { return false }
                    if state.available > 0 {
                        state.available -= 1
                        return true
                    }
                    state.waiting[id] = continuation
                    state.order.append(id)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            state.withLock { $0.waiting.removeValue(forKey: id) }?.resume(returning: false)
        }
    }

    /// Ends a turn: the longest-waiting waiter gets it.
    func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if let next = state.popFirst() { return next }
            state.available += 1
            return nil
        }
        next?.resume(returning: true)
    }
}
