import SluiceCore

extension ApplySession {
    /// Reinstalls the saved versions under the restart hold, then ends the apply.
    ///
    /// Before any restart (`afterRestart == false`) the services still run the old binaries:
    /// the hold is released and nothing restarts, so the service never went down. After a
    /// restart, the services are restarted again on the old versions and checked.
    /// - Parameters:
    ///   - afterRestart: whether services had restarted with the new versions.
    ///   - reason: why, one line; it leads the final detail.
    ///   - output: the output of the command or check that decided it.
    mutating func rollBack(afterRestart: Bool, reason: String, output: String) async -> ApplyStepReport {
        try? record(.rollingBack) {
            $0.afterRestart = afterRestart
            $0.detail = reason
        }
        let restored = await reinstallSaved()
        guard restored.succeeded else {
            return await end(.failed, "\(reason); rollback failed: \(restored.detail)", output: boundedOutput(output + "\n--- rollback ---\n" + restored.output))
        }
        await send(.rolledBack, "reinstalled \(describe(before)) under the restart hold", after: restored.versions)
        guard afterRestart else {
            return await end(.rolledBackBeforeRestart, reason + "; reinstalled \(describe(before)); the service never restarted", output: output)
        }
        try? record(.restarting) { $0.services = restartedServices }
        let services = restartedServices + restored.refused.filter { !restartedServices.contains($0) }
        let restarts = await backend.restarter.restart(services)
        try? record(.checking)
        let health = await waitUntilHealthy()
        guard health.passed else {
            let failing = health.results.filter { !$0.passed }.map(\.summary)
            let restartFailures = restarts.filter { !$0.succeeded }.map { "restart \($0.service): \($0.output)" }
            return await end(
                .failed, "\(reason); rolled back to \(describe(before)) but still unhealthy: \(failing.first ?? "restart failed")",
                output: boundedOutput(([output, "--- after rollback ---"] + failing + restartFailures).joined(separator: "\n")))
        }
        await send(.healthy, "healthy again on \(describe(before))", output: health.results.map(\.summary).joined(separator: "\n"), after: restored.versions)
        return await end(.rolledBackAfterRestart, reason + "; rolled back to \(describe(before)) and healthy", output: output)
    }

    /// What a reinstall of the saved .debs did.
    struct Restoration {
        var succeeded: Bool
        var detail: String
        var output: String
        var versions: [String: String]
        /// Services whose restart the hold refused during the reinstall.
        var refused: [String]
    }

    /// Holds restarts, finishes whatever dpkg left undone, reinstalls the saved .debs (apt with
    /// `--allow-downgrades`; dpkg directly if apt refuses), checks that every saved version is
    /// installed and configured, and releases the hold.
    mutating func reinstallSaved() async -> Restoration {
        var log: [String] = []
        func note(_ title: String, _ result: CommandResult) { log.append("$ \(title) (exit \(result.status))\n" + combinedOutput(result)) }
        // Restarts refused before an interruption count too; engaging the hold empties the log.
        let refusedEarlier = backend.hold.refusedServices
        do { try backend.hold.engage() } catch {
            return Restoration(succeeded: false, detail: error.message, output: "", versions: await versions(), refused: [])
        }
        let lockTimeout = Duration.seconds(Int64(backend.configuration.lockTimeoutSeconds))
        if !(await backend.dpkgLocks.waitUntilFree(timeout: lockTimeout)) { log.append("dpkg is still locked after \(lockTimeout)") }
        let audit = await root.outcome(AptCommands.audit, timeout: .seconds(120))
        if audit.status != 0 || !audit.stdout.stripped().isEmpty {
            note("dpkg --configure -a", await root.outcome(AptCommands.configurePending, environment: AptCommands.environment, timeout: .seconds(Int64(backend.configuration.installTimeoutSeconds))))
        }
        let paths = saved.map(\.path)
        if !paths.isEmpty {
            let timeout = Duration.seconds(Int64(backend.configuration.installTimeoutSeconds))
            let apt = await root.outcome(backend.commands.reinstall(paths), environment: AptCommands.environment, timeout: timeout)
            note("apt-get install --allow-downgrades (saved .debs)", apt)
            let afterApt = await versions()
            if apt.status != 0 || !savedVersionsInstalled(afterApt) {
                _ = await backend.dpkgLocks.waitUntilFree(timeout: lockTimeout)
                note("dpkg -i (saved .debs)", await root.outcome(AptCommands.dpkgInstall(paths), environment: AptCommands.environment, timeout: timeout))
                note("dpkg --configure -a", await root.outcome(AptCommands.configurePending, environment: AptCommands.environment, timeout: timeout))
            }
        }
        let refused = refusedEarlier + backend.hold.refusedServices.filter { !refusedEarlier.contains($0) }
        let problem = backend.hold.release()
        let versions = await versions()
        let finalAudit = await root.outcome(AptCommands.audit, timeout: .seconds(120))
        let auditText = finalAudit.stdout.stripped()
        var detail = ""
        if !savedVersionsInstalled(versions) {
            detail = "installed now: \(describe(versions)), expected \(describe(before))"
        } else if !auditText.isEmpty {
            detail = "dpkg --audit still reports unfinished packages"
            log.append(auditText)
        } else if let problem {
            detail = problem
        }
        return Restoration(succeeded: detail.isEmpty, detail: detail, output: boundedOutput(log.joined(separator: "\n")), versions: versions, refused: refused)
    }

    func savedVersionsInstalled(_ installed: [String: String]) -> Bool {
        saved.allSatisfy { installed[$0.name] == $0.version }
    }
}
