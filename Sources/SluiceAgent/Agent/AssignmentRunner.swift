import Foundation
import Logging
import SluiceAPI
import SluiceClient
import SluiceCore

/// Long-polls the host's assignment and runs each one through the package backend,
/// reporting every step. It applies only what the controller started, and only after the
/// controller accepted its `started` step (a paused or cancelled assignment is refused there).
public struct AssignmentRunner: Sendable {
    let client: SluiceHTTPClient
    let host: HostID
    let backend: any PackageBackend
    let logger: Logger
    /// The last instructions applied: their health checks are what heartbeats run.
    let onApplied: @Sendable (ApplyInstructions) async -> Void

    /// Used by the agent and by the fleet simulator (SluiceSimulator), which runs many in one process.
    public init(
        client: SluiceHTTPClient, host: HostID, backend: any PackageBackend, logger: Logger,
        onApplied: @escaping @Sendable (ApplyInstructions) async -> Void
    ) {
        self.client = client
        self.host = host
        self.backend = backend
        self.logger = logger
        self.onApplied = onApplied
    }

    public func run() async {
        var known: String?
        while !Task.isCancelled {
            do {
                let poll = try await client.pollAssignment(host: host, known: known, waitSeconds: 25)
                known = poll.etag
                if let question = poll.simulation { await answer(question) }
                guard let assignment = poll.assignment else { continue }
                switch assignment.state {
                case .started:
                    try await runAssignment(assignment)
                case .applying, .verifying:
                    // The agent restarted mid-apply: recovery (at start) reported what it could;
                    // anything still open is reported as failed so nobody waits forever.
                    try await deliver(
                        assignment.id,
                        ApplyStepReport(step: .finished, detail: "the agent restarted during this apply; see the host's journal", outcome: .failed))
                default:
                    continue
                }
            } catch is CancellationError {
                return
            } catch {
                logger.error("assignment poll failed: \(error)")
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }

    /// A plan asks what apt would do with its pins here: simulated, answered, nothing changed.
    func answer(_ question: SimulationRequest) async {
        let report = await backend.simulate(question.packages)
        do {
            try await client.reportSimulation(host: host, id: question.id, report)
            logger.info("answered plan question \(question.id): \(report.error ?? "\(report.installs.count) install(s), \(report.removals.count) removal(s)")")
        } catch {
            logger.warning("plan question \(question.id) not answered: \(error)")
        }
    }

    func runAssignment(_ assignment: HostAssignment) async throws {
        do {
            _ = try await client.reportStep(
                host: host, assignment: assignment.id, ApplyStepReport(step: .started, detail: "agent began the apply"))
        } catch ClientError.api(409, _, let message) {
            logger.notice("assignment \(assignment.id) not applied: \(message)")
            return
        }
        logger.notice("applying assignment \(assignment.id): \(assignment.instructions.packages.map(\.description).joined(separator: " "))")
        let client = self.client, host = self.host, logger = self.logger
        // Once begun, the apply runs to its end even if the agent is asked to stop.
        let finished = await Task {
            await backend.apply(assignment.instructions, assignmentID: String(assignment.id)) { step in
                guard step.step != .started else { return }
                if step.step == .finished { return }
                do { _ = try await client.reportStep(host: host, assignment: assignment.id, step) } catch {
                    logger.warning("step \(step.step.rawValue) not reported: \(error)")
                }
            }
        }.value
        try await deliver(assignment.id, finished)
        await onApplied(assignment.instructions)
        logger.notice("assignment \(assignment.id) finished: \(finished.outcome?.rawValue ?? "?"): \(finished.detail)")
    }

    /// The finished step must arrive: retried until the controller takes it (or says it cannot).
    func deliver(_ assignment: Int64, _ report: ApplyStepReport) async throws {
        for attempt in 1... {
            do {
                _ = try await client.reportStep(host: host, assignment: assignment, report)
                return
            } catch ClientError.api(let status, _, let message) where (400..<500).contains(status) {
                logger.error("controller refused the outcome of assignment \(assignment): \(message)")
                return
            } catch {
                logger.warning("outcome of assignment \(assignment) not delivered (attempt \(attempt)): \(error)")
                try await Task.sleep(for: .seconds(min(attempt, 10)))
            }
        }
    }
}
