#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SluiceCore

extension ApplySession {
    /// Checks everything that can be checked without changing the host, and fills ``before``,
    /// ``targets``, ``changing`` and ``newPackages``. Nothing is touched.
    /// - Throws: ``ApplyFailure``: preflight failed, or unhealthy before apply.
    mutating func preflight() async throws(ApplyFailure) {
        let pins = instructions.packages
        var installed = try await installedPackages(pins.map(\.name))
        before = Dictionary(uniqueKeysWithValues: installed.values.map { ($0.name.rawValue, $0.version.description) })
        await send(.started, "applying \(pins.map(\.description).joined(separator: " "))", after: [:])

        try await checkDpkgIsClean()
        if let reverted = instructions.revertsAssignment {
            installArguments = try await revertSources(pins, installed: installed, reverted: reverted)
        } else {
            try await checkAvailable(pins, installed: installed)
            installArguments = pins.map(\.description)
        }

        let simulation = await root.outcome(
            backend.commands.simulate(installArguments, downgrades: instructions.revertsAssignment != nil), environment: AptCommands.environment,
            timeout: .seconds(300))
        guard simulation.status == 0 else {
            throw ApplyFailure(.preflightFailed, "apt-get -s install refused the package set: \(keyLine(simulation))", output: combinedOutput(simulation))
        }
        let plan: AptSimulation
        do { plan = try AptSimulationParser.parse(simulation.stdout) } catch {
            throw ApplyFailure(.preflightFailed, "cannot read apt's simulation: \(error.description)", output: combinedOutput(simulation))
        }
        if !plan.removals.isEmpty && !instructions.allowRemovals {
            let names = plan.removals.map { "\($0.name)" + ($0.installedVersion.map { " \($0)" } ?? "") }
            throw ApplyFailure(.preflightFailed, "the package set would remove \(names.joined(separator: ", ")), and the policy does not allow removals")
        }
        let pinned = Dictionary(uniqueKeysWithValues: pins.map { ($0.name, $0) })
        for install in plan.installs {
            if let pin = pinned[install.name] {
                guard install.candidateVersion.description == pin.version.description else {
                    throw ApplyFailure(.preflightFailed, "apt would install \(install.name) \(install.candidateVersion), not \(pin.version)")
                }
            } else if let current = install.installedVersion {
                throw ApplyFailure(
                    .preflightFailed,
                    "the package set would also upgrade \(install.name) from \(current) to \(install.candidateVersion), which is not in the set")
            } else {
                newPackages.append("\(install.name)=\(install.candidateVersion)")
            }
            targets[install.name.rawValue] = install.candidateVersion.description
        }
        // Removed packages are saved too, so a rollback can bring them back.
        let removed = plan.removals.map(\.name).filter { installed[$0] == nil }
        if !removed.isEmpty { installed.merge(try await installedPackages(removed)) { old, _ in old } }
        let changingNames = Set(plan.installs.filter { $0.installedVersion != nil }.map(\.name)).union(plan.removals.map(\.name))
        changing = installed.values.filter { changingNames.contains($0.name) }.sorted { $0.name < $1.name }
        before = Dictionary(uniqueKeysWithValues: changing.map { ($0.name.rawValue, $0.version.description) })

        try checkFreeSpace()
        let baseline = await backend.health.runAll(instructions.healthChecks)
        let failing = baseline.filter { !$0.passed }
        if let first = failing.first {
            // A revert is what mends a host that turned unhealthy on the new versions: it goes on.
            guard instructions.revertsAssignment != nil else {
                throw ApplyFailure(.unhealthyBeforeApply, "unhealthy before apply: \(first.summary)", output: failing.map(\.summary).joined(separator: "\n"))
            }
            notes.append("unhealthy before the revert: \(first.summary)")
        }
        var detail = targets.isEmpty ? "nothing to change" : "will install \(describe(targets))"
        if !newPackages.isEmpty { detail += "; new dependencies: \(newPackages.joined(separator: ", "))" }
        if !plan.removals.isEmpty { detail += "; will remove: \(plan.removals.map(\.name.rawValue).joined(separator: ", "))" }
        await send(.preflighted, detail)
    }

    /// The installed packages among `names`, by name (the first architecture dpkg lists).
    func installedPackages(_ names: [PackageName]) async throws(ApplyFailure) -> [PackageName: InstalledPackage] {
        let result = await root.outcome(AptCommands.query(names), timeout: .seconds(60))
        // dpkg-query exits 1 when a name is not installed, and still lists the others.
        guard result.status == 0 || result.status == 1 else {
            throw ApplyFailure(.preflightFailed, "dpkg-query failed: \(keyLine(result))", output: combinedOutput(result))
        }
        let packages: [InstalledPackage]
        do { packages = try DpkgQueryParser.parse(result.stdout) } catch {
            throw ApplyFailure(.preflightFailed, "cannot read dpkg-query's output: \(error.description)")
        }
        var map: [PackageName: InstalledPackage] = [:]
        for package in packages where map[package.name] == nil { map[package.name] = package }
        return map
    }

    /// No interrupted dpkg run, no half-installed or unconfigured package.
    func checkDpkgIsClean() async throws(ApplyFailure) {
        let updates = (try? FileManager.default.contentsOfDirectory(atPath: root.file("/var/lib/dpkg/updates"))) ?? []
        if updates.contains(where: { $0.allSatisfy(\.isNumber) }) {
            throw ApplyFailure(.preflightFailed, "dpkg was interrupted (pending entries in /var/lib/dpkg/updates); run dpkg --configure -a")
        }
        let audit = await root.outcome(AptCommands.audit, timeout: .seconds(120))
        let text = audit.stdout.stripped()
        guard audit.status == 0, text.isEmpty else {
            throw ApplyFailure(.preflightFailed, "dpkg --audit reports unfinished packages; fix them before applying", output: combinedOutput(audit))
        }
    }

    /// Every pinned version is published by one of the host's apt sources, and none is a downgrade.
    func checkAvailable(_ pins: [PackagePin], installed: [PackageName: InstalledPackage]) async throws(ApplyFailure) {
        let available = try await availableVersions(pins.map(\.name))
        for pin in pins {
            if let current = installed[pin.name], current.version.description == pin.version.description { continue }
            let available = available[pin.name] ?? []
            guard available.contains(where: { $0.description == pin.version.description }) else {
                let known = available.isEmpty ? "none" : available.map(\.description).joined(separator: ", ")
                throw ApplyFailure(.preflightFailed, "\(pin.name) \(pin.version) is not available from this host's apt sources (available: \(known))")
            }
            if let current = installed[pin.name], current.version > pin.version {
                throw ApplyFailure(
                    .preflightFailed, "\(pin.name) \(pin.version) is older than the installed \(current.version); downgrades happen only as rollback or revert")
            }
        }
    }

    /// The versions of each package that one of the host's apt sources publishes (`apt-cache policy`).
    func availableVersions(_ names: [PackageName]) async throws(ApplyFailure) -> [PackageName: [DebianVersion]] {
        let result = await root.outcome(AptCommands.policy(names), timeout: .seconds(120))
        guard result.status == 0 else {
            throw ApplyFailure(.preflightFailed, "apt-cache policy failed: \(keyLine(result))", output: combinedOutput(result))
        }
        var map: [PackageName: [DebianVersion]] = [:]
        for policy in AptPolicyParser.parsePackages(result.stdout) where policy.qualifier == nil && map[policy.name] == nil {
            map[policy.name] = policy.versions.filter { version in version.sources.contains { !$0.hasSuffix("/var/lib/dpkg/status") } }.map(\.version)
        }
        return map
    }

    /// A revert's install arguments: for each version to go back to, the .deb the reverted
    /// assignment saved, else the pin when an apt source still publishes that version. A
    /// version in neither refuses the whole revert before anything changes: never half a revert.
    mutating func revertSources(_ pins: [PackagePin], installed: [PackageName: InstalledPackage], reverted: Int64) async throws(ApplyFailure) -> [String] {
        let saved = RollbackArchive(root: root, stateDirectory: backend.configuration.stateDirectory, assignmentID: String(reverted))
        let available = try await availableVersions(pins.map(\.name))
        var arguments: [String] = [], missing: [String] = [], sources: [String] = []
        for pin in pins {
            if let current = installed[pin.name], current.version.description == pin.version.description {
                arguments.append(pin.description)
            } else if let file = await saved.savedPackage(pin.name, version: pin.version) {
                arguments.append(file.path)
                sources.append("\(pin) from \(file.path)")
            } else if (available[pin.name] ?? []).contains(where: { $0.description == pin.version.description }) {
                arguments.append(pin.description)
                sources.append("\(pin) from apt's sources")
            } else {
                missing.append(pin.description)
            }
        }
        guard missing.isEmpty else {
            throw ApplyFailure(
                .preflightFailed,
                "cannot revert: \(missing.joined(separator: ", ")) neither saved by assignment \(reverted) (\(saved.directory)) nor available from this host's apt sources; nothing was changed")
        }
        notes.append(sources.isEmpty ? "nothing to reinstall" : "revert of assignment \(reverted): " + sources.joined(separator: ", "))
        return arguments
    }

    /// At least the configured free space where dpkg unpacks, apt caches and the agent keeps state.
    func checkFreeSpace() throws(ApplyFailure) {
        let minimum = backend.configuration.minimumFreeBytes
        for path in [root.file("/usr"), root.file("/var/cache/apt/archives"), root.file("/var/lib"), backend.configuration.stateDirectory] {
            var info = statvfs()
            guard statvfs(path, &info) == 0 else { continue }
            let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
            if free < minimum {
                throw ApplyFailure(.preflightFailed, "only \(free >> 20) MiB free on \(path); the apply needs \(minimum >> 20) MiB")
            }
        }
    }
}
