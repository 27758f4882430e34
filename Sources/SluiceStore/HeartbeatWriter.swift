import SluiceCore
import Synchronization

/// One agent heartbeat, as `SluiceDatabase.recordHealth` records it.
public struct HealthBeat: Sendable, Equatable {
    public var host: HostID
    public var healthy: Bool
    public var detail: String
    public var nowMs: Int64

    public init(host: HostID, healthy: Bool, detail: String, nowMs: Int64) {
        self.host = host
        self.healthy = healthy
        self.detail = detail
        self.nowMs = nowMs
    }
}

/// Group commit for heartbeats: the fleet's most frequent write.
///
/// Each heartbeat is still durable before its agent is answered, but the heartbeats that
/// arrive while one commit is being written go together in the next: one transaction and
/// one sync of the log for all of them instead of one each. Nothing waits on a timer: the
/// first caller with nothing in progress writes at once (alone, on a quiet controller), and
/// writes whatever queued behind it until the queue is empty; the others wait for their
/// result. A heartbeat that fails (its host revoked and gone) fails alone.
public final class HeartbeatWriter: Sendable {
    private struct State {
        var queue: [(HealthBeat, CheckedContinuation<Bool, any Error>)] = []
        var writing = false
    }

    private let database: SluiceDatabase
    private let state = Mutex(State())
    /// The most heartbeats in one transaction, so one commit's latency stays bounded.
    let maxBatch: Int

    public init(database: SluiceDatabase, maxBatch: Int = 512) {
        self.database = database
        self.maxBatch = maxBatch
    }

    /// Records `beat` (in a transaction shared with the heartbeats queued beside it).
    /// - Returns: whether the host's health changed.
    public func record(_ beat: HealthBeat) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            let leads = state.withLock { state -> Bool in
                state.queue.append((beat, continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            guard leads else { return }
            // The leader writes one batch (its own heartbeat first) and is answered; what
            // queued meanwhile is written by a task of its own, so no caller's answer waits
            // behind a steady stream of others' batches.
            if writeBatch() { Task { while writeBatch() {} } }
        }
    }

    /// Writes the queued heartbeats (up to `maxBatch`) in one transaction and answers them.
    /// Returns whether more are queued; when none are, the writer steps down in the same lock,
    /// so the next caller leads. Only one caller at a time is here.
    private func writeBatch() -> Bool {
        let batch = state.withLock { state in
            let taken = Array(state.queue.prefix(maxBatch))
            state.queue.removeFirst(taken.count)
            return taken
        }
        do {
            let outcomes = try database.recordHealth(batch: batch.map(\.0))
            for ((_, continuation), outcome) in zip(batch, outcomes) { continuation.resume(with: outcome) }
        } catch {
            for (_, continuation) in batch { continuation.resume(throwing: error) }
        }
        return state.withLock { state in
            if state.queue.isEmpty { state.writing = false }
            return state.writing
        }
    }
}
