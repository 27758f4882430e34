import SluiceCore

/// One apply (or one recovery) in progress: the state the steps share, and the sequence.
/// Preflight is in `ApplySession+Preflight.swift`, rollback in `ApplySession+Rollback.swift`,
/// and finishing an interrupted apply in `ApplySession+Recovery.swift`.
struct ApplySession {
    let backend: AptBackend
    let assignmentID: String
    let instructions: ApplyInstructions
    let report: ApplyReporter
    let cancelled: CancellationFlag

    /// Name to version before the apply, of every package it changes (absent: not installed).
    var before: [String: String] = [:]
    /// Name to version the apply installs: the pins and their new dependencies.
    var targets: [String: String] = [:]
    /// The installed packages the apply changes (their .debs are saved).
    var changing: [InstalledPackage] = []
    /// New dependencies, `name=version`.
    var newPackages: [String] = []
    /// What apt installs: the pins, or for a revert the saved .deb of each version where there is one.
    var installArguments: [String] = []
    var saved: [SavedPackage] = []
    var preHooksStarted = false
    /// Services restarted with the new versions.
    var restartedServices: [String] = []
    /// Things worth saying in the final report that did not change the outcome.
    var notes: [String] = []

    var root: HostRoot { backend.root }
    var archive: RollbackArchive {
        RollbackArchive(root: root, stateDirectory: backend.configuration.stateDirectory, assignmentID: assignmentID)
    }
    var allNames: [PackageName] {
        var names = instructions.packages.map(\.name)
        for name in Set(before.keys).union(targets.keys).sorted() {
            if let parsed = try? PackageName(parsing: name), !names.contains(parsed) { names.append(parsed) }
        }
        return names
    }

    init(backend: AptBackend, assignmentID: String, instructions: ApplyInstructions, report: @escaping ApplyReporter, cancelled: CancellationFlag) {
        self.backend = backend
        self.assignmentID = assignmentID
        self.instructions = instructions
        self.report = report
        self.cancelled = cancelled
    }

    /// The whole sequence, from the first journal entry to the `finished` report.
    mutating func run() async -> ApplyStepReport {
        do { try begin() } catch { return await refuse("cannot write the apply journal: \(error.message)") }
        if let keep = instructions.keepSavedFrom {
            archive.removeOthers(keeping: Set((keep + [instructions.revertsAssignment].compactMap { $0 }).map(String.init)))
        }
        do { try await preflight() } catch { return await end(error) }
        if targets.isEmpty { return await end(.succeeded, "already at the requested versions; nothing to install") }
        if cancelled.isSet { return await end(.preflightFailed, "cancelled before anything changed") }

        if !instructions.preHooks.isEmpty {
            guard (try? record(.preHooks)) != nil else { return await end(.preflightFailed, "cannot write the apply journal") }
            preHooksStarted = true
            for hook in instructions.preHooks {
                let result = await root.outcome(hook.argv, timeout: .seconds(Int64(hook.timeoutSeconds)))
                if result.status != 0 {
                    return await end(.preflightFailed, "pre hook \(hook) failed: \(keyLine(result))", output: combinedOutput(result))
                }
            }
        }

        do {
            try record(.saving) { $0.versionsBefore = before }
            saved = try await archive.save(changing)
            await send(.saved, "saved \(saved.count) package(s) for rollback in \(archive.directory)" + savedSummary)
            try record(.holding) { $0.saved = saved }
            try backend.hold.engage()
        } catch let failure as ApplyFailure {
            return await end(failure)
        } catch let error as InvalidInput {
            backend.hold.release()
            return await end(.preflightFailed, error.message)
        } catch {
            backend.hold.release()
            return await end(.preflightFailed, "\(error)")
        }
        await send(.held, "service restarts held by \(RestartHold.policyPath)")
        if cancelled.isSet {
            backend.hold.release()
            return await end(.preflightFailed, "cancelled before anything changed")
        }

        // From here on the apply runs to its end whatever happens to the caller.
        try? record(.installing)
        let install = await root.outcome(
            backend.commands.install(installArguments, allowRemovals: instructions.allowRemovals, downgrades: instructions.revertsAssignment != nil),
            environment: AptCommands.environment, timeout: .seconds(Int64(backend.configuration.installTimeoutSeconds)))
        let installed = await versions()
        guard install.status == 0, matchesTargets(installed) else {
            let reason = install.status == 0 ? "installed versions differ from the package set" : "install failed: \(keyLine(install))"
            return await rollBack(afterRestart: false, reason: reason, output: combinedOutput(install))
        }
        await send(.installed, "installed \(describe(targets)) with restarts held", after: installed)

        try? record(.validating)
        for validation in instructions.validations {
            let result = await root.outcome(validation.argv, timeout: .seconds(Int64(validation.timeoutSeconds)))
            if result.status != 0 {
                return await rollBack(
                    afterRestart: false, reason: "validation \(validation) failed: \(keyLine(result))", output: combinedOutput(result))
            }
        }
        await send(.validated, instructions.validations.isEmpty ? "no validation configured" : "\(instructions.validations.count) validation(s) passed with the new binaries", after: installed)
        return await restartAndCheck()
    }

    /// Releases the hold, restarts what it refused, and checks health until the deadline.
    mutating func restartAndCheck() async -> ApplyStepReport {
        try? record(.releasing)
        let held = backend.hold.refusedServices
        if let problem = backend.hold.release() { notes.append(problem) }
        // The agent's own unit is never restarted here: that would end this very apply.
        let own = backend.configuration.ownUnit.map { $0.hasSuffix(".service") ? String($0.dropLast(".service".count)) : $0 }
        let services = held.filter { $0 != own }
        let deferred = services.count < held.count ? own.map { "\($0) restarts after this report (the agent's own unit)" } : nil
        if let deferred { notes.append(deferred) }
        try? record(.restarting) { $0.services = services }
        restartedServices = services
        let restarts = await backend.restarter.restart(services)
        let failedRestarts = restarts.filter { !$0.succeeded }
        var restartText = services.isEmpty ? "no service asked to restart" : "restarted \(services.joined(separator: ", "))"
        if let deferred { restartText = services.isEmpty ? deferred : restartText + "; " + deferred }
        await send(.restarted, restartText + (failedRestarts.isEmpty ? "" : "; failed: \(failedRestarts.map(\.service).joined(separator: ", "))"),
                   output: failedRestarts.isEmpty ? nil : boundedOutput(failedRestarts.map { "\($0.service): \($0.output)" }.joined(separator: "\n")))

        try? record(.checking)
        let health = await waitUntilHealthy()
        guard health.passed else {
            let failing = health.results.filter { !$0.passed }
            var output = failing.map(\.summary)
            output += failedRestarts.map { "restart \($0.service): \($0.output)" }
            return await rollBack(
                afterRestart: true, reason: "health check failed after restart: \(failing.first?.summary ?? "unknown")",
                output: boundedOutput(output.joined(separator: "\n")))
        }
        await send(.healthy, "\(instructions.healthChecks.count) health check(s) passed after \(health.rounds) round(s)",
                   output: health.results.isEmpty ? nil : health.results.map(\.summary).joined(separator: "\n"))
        return await end(.succeeded, "installed \(describe(targets)); healthy")
    }

    func waitUntilHealthy() async -> (passed: Bool, results: [HealthCheckResult], rounds: Int) {
        await backend.health.waitUntilHealthy(
            instructions.healthChecks, deadline: .seconds(Int64(instructions.healthDeadlineSeconds)),
            retryInterval: .seconds(Int64(instructions.healthRetryIntervalSeconds)))
    }

    // MARK: Ending

    /// Ends with `failure`'s outcome.
    mutating func end(_ failure: ApplyFailure) async -> ApplyStepReport {
        await end(failure.outcome, failure.detail, output: failure.output)
    }

    /// Runs the post hooks (when the pre hooks ran), journals and reports the outcome, and
    /// drops the rollback material: the assignment has ended.
    mutating func end(_ outcome: ApplyOutcome, _ detail: String, output: String? = nil) async -> ApplyStepReport {
        var outcome = outcome
        var detail = detail
        if let problem = backend.hold.release() { notes.append(problem) }
        if preHooksStarted {
            try? record(.postHooks) {
                $0.outcome = outcome
                $0.detail = detail
            }
            for hook in instructions.postHooks {
                let result = await root.outcome(hook.argv, timeout: .seconds(Int64(hook.timeoutSeconds)))
                if result.status != 0 {
                    detail += "; post hook \(hook) failed: \(keyLine(result))"
                    outcome = .failed
                }
            }
        }
        if !notes.isEmpty { detail += "; " + notes.joined(separator: "; ") }
        let after = await versions()
        let rebootRequired = exists(root.file("/run/reboot-required")) || exists(root.file("/var/run/reboot-required"))
        try? record(.finished) {
            $0.outcome = outcome
            $0.detail = detail
        }
        // A host left on the new versions keeps the old ones' .debs for a revert; otherwise
        // it is back on them (or failed) and they have served.
        if outcome != .succeeded { archive.discard() }
        let finished = ApplyStepReport(
            step: .finished, detail: detail, output: output, versionsBefore: before, versionsAfter: after, outcome: outcome,
            rebootRequired: rebootRequired)
        await report(finished)
        return finished
    }

    /// Refuses before anything was journaled or touched (bad input, lock held).
    func refuse(_ detail: String) async -> ApplyStepReport {
        let finished = ApplyStepReport(step: .finished, detail: detail, outcome: .preflightFailed)
        await report(finished)
        return finished
    }

    // MARK: Journal and reports

    func begin() throws(InvalidInput) {
        var entry = ApplyJournalEntry(assignmentID: assignmentID, phase: .started, atMs: backend.clock.nowMs())
        entry.instructions = instructions
        entry.bootID = backend.bootID
        try backend.journal.begin(entry)
    }

    func record(_ phase: ApplyJournalEntry.Phase, _ fill: (inout ApplyJournalEntry) -> Void = { _ in }) throws(InvalidInput) {
        var entry = ApplyJournalEntry(assignmentID: assignmentID, phase: phase, atMs: backend.clock.nowMs())
        fill(&entry)
        try backend.journal.append(entry)
    }

    func send(_ step: ApplyStep, _ detail: String, output: String? = nil, after: [String: String]? = nil) async {
        await report(ApplyStepReport(step: step, detail: detail, output: output, versionsBefore: before, versionsAfter: after ?? targets))
    }

    /// Installed versions of every package the apply is about; a package dpkg has not fully
    /// configured shows its state (`2.0-1 half-configured`).
    func versions() async -> [String: String] {
        let result = await root.outcome(AptCommands.query(allNames), timeout: .seconds(60))
        guard let packages = try? DpkgQueryParser.parse(result.stdout) else { return [:] }
        var map: [String: String] = [:]
        for package in packages where map[package.name.rawValue] == nil {
            let state = package.status.split(separator: " ").last.map(String.init) ?? ""
            map[package.name.rawValue] = state == "installed" ? package.version.description : "\(package.version) \(state)"
        }
        return map
    }

    func matchesTargets(_ installed: [String: String]) -> Bool {
        targets.allSatisfy { installed[$0.key] == $0.value }
    }

    func describe(_ versions: [String: String]) -> String {
        versions.keys.sorted().map { "\($0)=\(versions[$0] ?? "")" }.joined(separator: ", ")
    }

    var savedSummary: String {
        saved.isEmpty ? "" : " (" + saved.map { "\($0.name) \($0.version) from \($0.source)" }.joined(separator: ", ") + ")"
    }
}
