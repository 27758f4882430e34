import Foundation
import GRDB
import Synchronization

/// Copies the write-ahead log into the database file from a connection and a thread of its
/// own, so that the writer never does it in the middle of a commit.
///
/// SQLite's default makes the connection whose commit crosses 1,000 pages of log copy them
/// all before that commit returns; with 10,000 agents checking in, that stalled every
/// heartbeat queued behind it (p99 88 ms at 5,000/s, against 6 ms with 2,000 agents). Here
/// a passive checkpoint runs every `interval` beside the writer (it never blocks it), and
/// the writer's own automatic checkpoint stays as a backstop at 16,384 pages (64 MiB) should
/// this one fall behind.
public final class BackgroundCheckpoints: Sendable {
    private struct State {
        var stopped = false
        var runs = 0
        var framesCopied = 0
    }

    private let state = Mutex(State())

    /// Checkpoints run and log frames copied (for tests and logs).
    public var runs: Int { state.withLock { $0.runs } }
    public var framesCopied: Int { state.withLock { $0.framesCopied } }

    /// Ends the thread after its current checkpoint.
    public func stop() { state.withLock { $0.stopped = true } }

    fileprivate func loop(_ connection: DatabaseQueue, interval: TimeInterval) {
        while !state.withLock({ $0.stopped }) {
            if let result = try? connection.writeWithoutTransaction({ try $0.checkpoint(.passive) }) {
                state.withLock {
                    $0.runs += 1
                    $0.framesCopied += max(0, result.checkpointedFrameCount)
                }
            }
            Thread.sleep(forTimeInterval: interval)
        }
        try? connection.close()
    }
}

extension SluiceDatabase {
    /// Starts checkpointing in the background (see `BackgroundCheckpoints`): what the serving
    /// controller does; short-lived tools leave SQLite's default. Nothing for an in-memory database.
    public func startBackgroundCheckpoints(every interval: Duration = .milliseconds(250)) throws -> BackgroundCheckpoints {
        let checkpoints = BackgroundCheckpoints()
        guard path != ":memory:" else { return checkpoints }
        try writer.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_autocheckpoint = 16384") }
        let connection = try DatabaseQueue(path: path, configuration: Self.configuration())
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        let thread = Thread { checkpoints.loop(connection, interval: seconds) }
        thread.name = "sluice-checkpoints"
        thread.start()
        return checkpoints
    }

    /// The writer's automatic checkpoint threshold, in pages (for tests).
    func walAutocheckpointPages() throws -> Int {
        try writer.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") ?? -1 }
    }
}
