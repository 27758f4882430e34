import Logging
import ServiceLifecycle
import SluiceCore
import SluiceStore

/// Writes the audit chain's head beside the database file (`<db>.audit-head`) and to the log
/// (the journal: keep it where the controller cannot rewrite it) every minute it moved, and at
/// a graceful stop. `audit verify` checks the chain still holds the witnessed head, so rows
/// deleted from its end are found even when SQLite's counter was reset too.
///
/// A witnessed head the database no longer holds is never overwritten: it is reported at
/// every check until an operator looks (`sluicectl audit verify`).
public struct AuditHeadWitness: Service {
    let database: SluiceDatabase
    let clock: any WallClock
    let logger: Logger
    let interval: Duration

    public init(database: SluiceDatabase, clock: any WallClock, logger: Logger, interval: Duration = .seconds(60)) {
        self.database = database
        self.clock = clock
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            witness()
            // Ends at once on a graceful stop, for the last witness below.
            try? await gracefulShutdown(within: interval)
        }
        witness()
    }

    /// One check: records the head when it moved; reports a recorded head the chain lost.
    /// - Returns: the problem, when the chain no longer holds the witnessed head.
    @discardableResult
    public func witness() -> AuditChainProblem? {
        do {
            let recorded = try SluiceDatabase.witnessedHead(databasePath: database.path)
            guard let head = try database.auditHead() else {
                if let recorded { return report(try database.verifyAudit(heads: [recorded]).problem) }
                return nil
            }
            if let recorded {
                if recorded.seq == head.seq && recorded.hash == head.hash { return nil }
                if let problem = try database.checkHead(recorded, lastSeq: head.seq) { return report(problem) }
            }
            var stamped = head
            stamped.atMs = clock.nowMs()
            try SluiceDatabase.witness(stamped, databasePath: database.path)
            logger.notice("audit chain head \(head)")
        } catch {
            logger.error("cannot witness the audit chain's head: \(error)")
        }
        return nil
    }

    func report(_ problem: AuditChainProblem?) -> AuditChainProblem? {
        if let problem { logger.critical("the audit log no longer holds the head witnessed earlier: \(problem); run sluicectl audit verify") }
        return problem
    }

    /// Waits `interval`, or less when a graceful shutdown begins.
    func gracefulShutdown(within interval: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
    }
}
