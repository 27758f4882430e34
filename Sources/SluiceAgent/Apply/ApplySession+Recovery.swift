import SluiceCore

extension ApplySession {
    /// Finishes an apply the journal shows was interrupted, from the step it was about to take.
    ///
    /// Before the install nothing changed: the apply ends as refused. From the install until the
    /// hold was released the old daemon still serves: the saved versions are reinstalled (after
    /// dpkg's own unfinished work, under the hold) and nothing restarts. Once services restarted
    /// on the new versions, the health checks decide: healthy completes the apply, anything
    /// else rolls back and restarts. An interrupted rollback is resumed.
    mutating func resume(_ summary: JournalSummary) async -> ApplyStepReport {
        before = summary.versionsBefore
        saved = summary.saved
        preHooksStarted = summary.preHooksStarted
        restartedServices = summary.services
        for pin in instructions.packages { targets[pin.name.rawValue] = pin.version.description }
        let rebooted = summary.bootID != nil && backend.bootID != summary.bootID
        let stoppedAt = "the agent stopped at step \(summary.last.rawValue)" + (rebooted ? " and the host rebooted" : "")
        if summary.rollbackStarted && (summary.last == .restarting || summary.last == .checking) {
            return await rollBack(afterRestart: true, reason: "resumed the rollback (\(summary.detail ?? stoppedAt))", output: "")
        }
        switch summary.last {
        case .started, .preHooks, .saving, .holding:
            return await end(.preflightFailed, "\(stoppedAt), before installing anything; nothing changed")
        case .installing, .validating, .releasing:
            // Without a reboot the old daemon still runs: roll back and restart nothing. After a
            // reboot, services started at boot on whatever was unpacked: restart them after rollback.
            return await rollBack(afterRestart: rebooted, reason: "\(stoppedAt), before the agent restarted any service", output: "")
        case .restarting, .checking:
            let installed = await versions()
            let audit = await root.outcome(AptCommands.audit, timeout: .seconds(120))
            let clean = audit.status == 0 && audit.stdout.stripped().isEmpty
            if clean && matchesTargets(installed) {
                if summary.last == .restarting { restartedServices = summary.services }
                _ = await backend.restarter.restart(summary.last == .restarting ? summary.services : [])
                let health = await waitUntilHealthy()
                if health.passed {
                    await send(.healthy, "healthy on the new versions after the agent restarted", after: installed)
                    return await end(.succeeded, "installed \(describe(targets)); healthy (completed after \(stoppedAt))")
                }
                let failing = health.results.filter { !$0.passed }.map(\.summary)
                return await rollBack(
                    afterRestart: true, reason: "health check failed after restart (\(stoppedAt)): \(failing.first ?? "")",
                    output: failing.joined(separator: "\n"))
            }
            return await rollBack(afterRestart: true, reason: "\(stoppedAt) and the new versions are not fully installed", output: combinedOutput(audit))
        case .rollingBack:
            return await rollBack(afterRestart: summary.afterRestart || rebooted, reason: "resumed the rollback (\(summary.detail ?? stoppedAt))", output: "")
        case .postHooks, .finished:
            return await end(summary.outcome ?? .failed, summary.detail ?? stoppedAt)
        }
    }
}
