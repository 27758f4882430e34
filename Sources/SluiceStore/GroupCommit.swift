import GRDB
import Synchronization

/// Group commit for the fleet's frequent writes (heartbeats, inventory reports): those that
/// arrive while one transaction is being written go together in the next, so a thousand
/// agents cost one commit and one sync of the log instead of a thousand. Each write is still
/// durable before its caller hears back (the answer waits for the commit), and nothing
/// waits on a timer: the first caller with nothing in progress writes at once.
///
/// Each work item must leave nothing behind when it throws (a single statement, or a
/// savepoint around several): it then fails alone and the rest of its batch is committed.
/// If SQLite itself rolled the transaction back (disk full, an I/O error), or the commit
/// fails, every item of the batch fails with that error.
final class GroupCommit: Sendable {
    private typealias Completion = @Sendable () -> Void

    private struct Item: Sendable {
        /// Runs in the batch's transaction; returns what to do once it is committed.
        var run: @Sendable (Database) throws -> Completion
        var fail: @Sendable (any Error) -> Void
    }

    private struct State {
        var queue: [Item] = []
        var writing = false
        var transactions = 0
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())
    /// The most items in one transaction, so that one commit's latency stays bounded.
    let maxBatch: Int

    /// Items waiting for the next transaction, and transactions written (for tests).
    var queued: Int { state.withLock { $0.queue.count } }
    var transactions: Int { state.withLock { $0.transactions } }

    init(writer: any DatabaseWriter, maxBatch: Int = 512) {
        self.writer = writer
        self.maxBatch = maxBatch
    }

    /// Runs `work` in a transaction shared with the work queued beside it and returns its
    /// result once that transaction is committed.
    func perform<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let item = Item(
                run: { db in
                    do {
                        let value = try work(db)
                        return { continuation.resume(returning: value) }
                    } catch {
                        // The transaction is gone: the whole batch fails.
                        guard db.isInsideTransaction else { throw error }
                        return { continuation.resume(throwing: error) }
                    }
                },
                fail: { continuation.resume(throwing: $0) })
            let leads = state.withLock { state -> Bool in
                state.queue.append(item)
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if leads { writeBatch() }
        }
    }

    /// Writes the queued items (up to `maxBatch`) in one transaction on the database's
    /// writer queue and answers them once it is committed; then the next batch, if any
    /// queued meanwhile, or the writer steps down (in the same lock as callers queue, so the
    /// next caller leads). The commit's wait for the disk happens on the writer's queue, not
    /// on one of the few threads that run every request's task.
    private func writeBatch() {
        let batch = state.withLock { state in
            let taken = Array(state.queue.prefix(maxBatch))
            state.queue.removeFirst(taken.count)
            state.transactions += 1
            return taken
        }
        writer.asyncWrite(
            { db in try batch.map { try $0.run(db) } },
            completion: { _, result in
                switch result {
                case .success(let completions): for completion in completions { completion() }
                case .failure(let error): for item in batch { item.fail(error) }
                }
                let more = self.state.withLock { state in
                    if state.queue.isEmpty { state.writing = false }
                    return state.writing
                }
                if more { self.writeBatch() }
            })
    }
}
