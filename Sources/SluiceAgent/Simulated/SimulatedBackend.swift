import Foundation
import SluiceCore

/// A package backend that changes nothing: it walks the apply steps with scripted outcomes
/// per package, for the rollout engine's tests, the demo and benchmarks.
public struct SimulatedBackend: PackageBackend {
    /// The outcome for an assignment that contains this package; others succeed.
    let outcomes: [String: ApplyOutcome]
    let stepDelay: Duration

    public init(outcomes: [String: ApplyOutcome] = [:], stepDelay: Duration = .milliseconds(50)) {
        self.outcomes = outcomes
        self.stepDelay = stepDelay
    }

    /// `name=outcome`, as given on the command line: `bind9=rolled-back-before-restart`.
    public static func parseOutcome(_ text: String) throws(InvalidInput) -> (String, ApplyOutcome) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let outcome = ApplyOutcome(rawValue: parts[1]) else {
            throw InvalidInput(
                "invalid simulated outcome \(quoted(text)): expected PACKAGE=OUTCOME with OUTCOME one of \(ApplyOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return (parts[0], outcome)
    }

    public func apply(_ instructions: ApplyInstructions, assignmentID: String, report: @escaping ApplyReporter) async -> ApplyStepReport {
        let outcome = instructions.packages.compactMap { outcomes[$0.name.description] }.first ?? .succeeded
        let after = Dictionary(uniqueKeysWithValues: instructions.packages.map { ($0.name.description, $0.version.description) })
        func step(_ s: ApplyStep, _ detail: String, output: String? = nil) async {
            try? await Task.sleep(for: stepDelay)
            await report(ApplyStepReport(step: s, detail: detail, output: output))
        }
        await step(.started, "simulated apply of \(instructions.packages.map(\.description).joined(separator: " "))")
        switch outcome {
        case .preflightFailed, .unhealthyBeforeApply:
            return await finish(outcome, "simulated: \(outcome.rawValue)", report: report)
        default: break
        }
        await step(.preflighted, "simulated preflight passed")
        await step(.held, "restarts held")
        await step(.installed, "installed (simulated)")
        if outcome == .rolledBackBeforeRestart {
            await step(.rolledBack, "validation failed; previous versions reinstalled before any restart", output: "simulated: the new version refused the live configuration")
            return await finish(outcome, "rolled back before restart: validation failed", report: report)
        }
        await step(.validated, "validation passed")
        await step(.restarted, "restarted held services")
        if outcome == .rolledBackAfterRestart {
            await step(.rolledBack, "health failed after restart; previous versions reinstalled and healthy")
            return await finish(outcome, "rolled back after restart: health check failed", report: report)
        }
        if outcome == .failed {
            return await finish(outcome, "failed: unhealthy even after rollback", report: report)
        }
        await step(.healthy, "health checks passed")
        let done = ApplyStepReport(step: .finished, detail: "succeeded", versionsAfter: after, outcome: .succeeded)
        await report(done)
        return done
    }

    private func finish(_ outcome: ApplyOutcome, _ detail: String, report: ApplyReporter) async -> ApplyStepReport {
        let done = ApplyStepReport(step: .finished, detail: detail, outcome: outcome)
        await report(done)
        return done
    }

    public func recover(report: @escaping RecoveryReporter) async -> RecoveredApply? { nil }

    /// The set alone, as new installs: a simulated host has no other packages.
    public func simulate(_ pins: [PackagePin]) async -> SimulationReport {
        SimulationReport(installs: pins.map { PackageChange(name: $0.name, from: nil, to: $0.version) })
    }
}

/// An inventory read from a JSON file instead of dpkg and apt: for simulated fleets.
public struct FileInventory: InventorySource {
    let path: String
    public init(path: String) { self.path = path }

    public func collect() async throws -> InventoryReport {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let report = try JSONDecoder().decode(InventoryReport.self, from: data)
        try report.validate()
        return report
    }
}
