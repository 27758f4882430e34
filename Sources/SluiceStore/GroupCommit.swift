import GRDB
import Synchronization

/// Group commit for the fleet's frequent writes (heartbeats, inventory reports): those that
/// arrive while one transaction is being written go together in the next, so a thousand
/// agents cost one commit and one sync of the log instead of a thousand. The answer waits for
/// the commit, and nothing waits on a timer: the first caller with nothing in progress
/// writes at once.
///
/// A write is `synced` (the default) when losing it to a power cut or a kernel crash would
/// lose something: its batch's commit waits until the log is on disk (`synchronous=FULL`,
/// which `SluiceDatabase.open` sets on the writer). A batch of writes that are all unsynced
/// (a heartbeat that reports the health its host is known to have: only its time and detail
/// change, no audit event) commits without that wait (`synchronous=NORMAL`): a crash of
/// sluiced loses none of it, a power cut at most the last such batches, the same few seconds
/// of "last seen" that the controller's own downtime costs. The log is written in order, so
/// the next synced commit (or checkpoint) makes every earlier batch durable too, and a lost
/// batch is lost whole. Each batch sets its level before it begins and an unsynced one puts
/// `FULL` back after it, so every other write on the connection is synced.
///
/// Each work item must leave nothing behind when it throws (a single statement, or a
/// savepoint around several): it then fails alone and the rest of its batch is committed.
/// If SQLite itself rolled the transaction back (disk full, an I/O error), or the commit
/// fails, every item of the batch fails with that error.
final class GroupCommit: Sendable {
    private typealias Completion = @Sendable () -> Void

    private struct Item: Sendable {
        /// Whether its commit must wait for the disk (see the type's description).
        var synced: Bool
        /// Runs in the batch's transaction; returns what to do once it is committed.
        var run: @Sendable (Database) throws -> Completion
        var fail: @Sendable (any Error) -> Void
    }

    private struct State {
        var queue: [Item] = []
        var writing = false
        var transactions = 0
        var unsyncedTransactions = 0
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())
    /// The most items in one transaction, so that one commit's latency stays bounded.
    let maxBatch: Int

    /// Items waiting for the next transaction, and transactions written (for tests).
    var queued: Int { state.withLock { $0.queue.count } }
    var transactions: Int { state.withLock { $0.transactions } }
    /// Transactions committed without waiting for the disk (for tests).
    var unsyncedTransactions: Int { state.withLock { $0.unsyncedTransactions } }

    init(writer: any DatabaseWriter, maxBatch: Int = 512) {
        self.writer = writer
        self.maxBatch = maxBatch
    }

    /// Runs `work` in a transaction shared with the work queued beside it and returns its
    /// result once that transaction is committed.
    /// - Parameter synced: false only for a write whose loss to a power cut loses nothing the
    ///   next check-in does not bring back (see the type's description).
    func perform<T: Sendable>(synced: Bool = true, _ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let item = Item(
                synced: synced,
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
        let (batch, synced) = state.withLock { state in
            let taken = Array(state.queue.prefix(maxBatch))
            state.queue.removeFirst(taken.count)
            state.transactions += 1
            let synced = taken.contains(where: \.synced)
            if !synced { state.unsyncedTransactions += 1 }
            return (taken, synced)
        }
        writer.asyncWriteWithoutTransaction { db in
            let result = Result { () throws -> [Completion] in
                // SQLite takes the level only outside a transaction. It is put back before
                // anything else writes on this connection; should that fail (it reads the
                // schema first), the next batch sets its own level again.
                try db.cachedStatement(sql: synced ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL").execute()
                defer { if !synced { try? db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute() } }
                var completions: [Completion] = []
                try db.inTransaction {
                    completions = try batch.map { try $0.run(db) }
                    return .commit
                }
                return completions
            }
            switch result {
            case .success(let completions): for completion in completions { completion() }
            case .failure(let error): for item in batch { item.fail(error) }
            }
            let more = self.state.withLock { state in
                if state.queue.isEmpty { state.writing = false }
                return state.writing
            }
            if more { self.writeBatch() }
        }
    }
}
