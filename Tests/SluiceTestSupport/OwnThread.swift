import Foundation

/// Runs a test's blocking body (subprocesses it waits for, polling loops) on a thread of its
/// own instead of one of the few threads that run every task of the test process.
///
/// swift-testing runs a synchronous test on the cooperative pool, which has one thread per
/// core: on 2 cores, two tests that block for a minute each stall every other test's tasks
/// for that minute, the in-process controllers and simulated agents those tests wait on
/// included. The body still runs in the test's own task (through a task executor preference),
/// so `#expect` and `Issue.record` are attributed to the test as usual.
///
/// One such body runs at a time, the others waiting (without holding a thread) for their turn:
/// they start programs (controllers, agents, the demo), and several of them at once on 2 cores
/// made those programs miss their own deadlines.
public func onOwnThread<T>(_ body: () async throws -> T) async throws -> T {
    await OwnThreadSlots.shared.acquire()
    defer { OwnThreadSlots.shared.release() }
    let executor = OwnThreadExecutor()
    defer { executor.shutdown() }
    return try await withTaskExecutorPreference(executor) { try await body() }
}

/// A counting semaphore for `onOwnThread`, waited on asynchronously.
final class OwnThreadSlots: @unchecked Sendable {
    static let shared = OwnThreadSlots(1)

    private let lock = NSLock()
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if free > 0 {
                free -= 1
                lock.unlock()
                continuation.resume()
            } else {
                waiting.append(continuation)
                lock.unlock()
            }
        }
    }

    func release() {
        lock.lock()
        if waiting.isEmpty {
            free += 1
            lock.unlock()
        } else {
            let next = waiting.removeFirst()
            lock.unlock()
            next.resume()
        }
    }
}

/// A task executor with one thread of its own, which runs the jobs enqueued on it in order.
final class OwnThreadExecutor: TaskExecutor, @unchecked Sendable {
    /// Guards `jobs` and `stopped`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    init() {
        let thread = Thread { [self] in run() }
        thread.name = "test-own-thread"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// The thread ends once the jobs enqueued so far have run.
    func shutdown() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            guard !jobs.isEmpty else {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
