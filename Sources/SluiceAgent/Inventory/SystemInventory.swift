#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SluiceCore

/// Collects this host's ``InventoryReport`` by reading dpkg's and apt's state. Read-only: it
/// runs only queries and simulations (`dpkg-query -W`, `apt-get -s`, `apt-cache policy`,
/// `apt-config dump`, `systemctl is-enabled`) and never updates lists or installs anything.
///
/// Commands run through a ``CommandRunner`` with argv (no shell); files are read below
/// ``fileRoot`` so tests can supply their own `/etc/os-release` and reboot markers.
public struct SystemInventory: Sendable {
    /// Everything one collection found: the report, plus what the simulated upgrade would
    /// remove (which the report has no field for, and an operator must see).
    public struct Snapshot: Sendable, Equatable {
        /// The report to send to the controller.
        public var report: InventoryReport
        /// Packages `apt-get dist-upgrade` would remove.
        public var removals: [SimulatedRemoval]
    }

    /// The agent version written into every report.
    public let agentVersion: String
    /// Runs the commands.
    public let runner: any CommandRunner
    /// The directory files are read under: `/` on a real host.
    public let fileRoot: String

    /// Names per `apt-cache policy` call, so the argument vector stays far below `ARG_MAX`.
    static let policyBatchSize = 256
    /// The largest host file read (os-release, reboot-required.pkgs).
    static let maxFileSize = 1 << 20

    /// - Parameters:
    ///   - agentVersion: the agent version written into every report.
    ///   - runner: runs the commands (``SubprocessRunner`` on a real host).
    ///   - fileRoot: the directory host files are read under.
    public init(agentVersion: String, runner: any CommandRunner, fileRoot: String = "/") {
        self.agentVersion = agentVersion
        self.runner = runner
        self.fileRoot = fileRoot
    }

    /// Collects the report.
    /// - Throws: ``CommandError`` when dpkg or apt cannot be run or fails,
    ///   ``InventoryParseError`` when their output is unreadable, `InvalidInput` when the
    ///   result breaks the report's limits.
    public func collect() async throws -> InventoryReport {
        try await snapshot().report
    }

    /// Collects the report and the removals the simulated upgrade would make.
    /// - Throws: the same errors as ``collect()``.
    public func snapshot() async throws -> Snapshot {
        let installed = try DpkgQueryParser.parse(
            try await required("dpkg-query", DpkgQueryParser.arguments, display: "dpkg-query -W", timeout: .seconds(60))
        )
        let simulation = try AptSimulationParser.parse(
            try await required(
                "apt-get", AptSimulationParser.arguments, display: AptSimulationParser.source, timeout: .seconds(300)
            )
        )
        var candidates: [UpgradeCandidate] = []
        if !simulation.installs.isEmpty {
            let sources = AptPolicyParser.parseSources(
                try await required("apt-cache", ["policy"], display: "apt-cache policy", timeout: .seconds(120))
            )
            var policies: [AptPackagePolicy] = []
            let names = simulation.installs.map(\.aptName)
            for start in stride(from: 0, to: names.count, by: Self.policyBatchSize) {
                let batch = Array(names[start..<min(start + Self.policyBatchSize, names.count)])
                policies += AptPolicyParser.parsePackages(
                    try await required(
                        "apt-cache", ["policy", "--"] + batch, display: "apt-cache policy NAME…", timeout: .seconds(120)
                    )
                )
            }
            candidates = Self.candidates(
                simulation.installs, sources: AptPolicyParser.originsBySource(sources), policies: policies
            )
        }
        let reboot = try rebootRequired()
        let report = InventoryReport(
            agentVersion: agentVersion,
            os: try osRelease(),
            installed: installed,
            candidates: candidates,
            rebootRequired: reboot.required,
            rebootRequiredPackages: reboot.packages,
            unattendedUpgrades: await unattendedUpgrades(installed: installed)
        )
        try report.validate()
        return Snapshot(report: report, removals: simulation.removals)
    }

    /// Joins `Inst` lines with `apt-cache policy`: a candidate's origins are the full release
    /// fields of every source its candidate version is listed under; when none of them can
    /// be matched, the label and archive from the `Inst` line are used instead.
    static func candidates(
        _ installs: [SimulatedInstall], sources: [String: PackageOrigin], policies: [AptPackagePolicy]
    ) -> [UpgradeCandidate] {
        var policyByName: [String: AptPackagePolicy] = [:]
        for policy in policies where policyByName[policy.aptName] == nil { policyByName[policy.aptName] = policy }
        var seen = Set<PackageKey>()
        var candidates: [UpgradeCandidate] = []
        for install in installs {
            var origins: [PackageOrigin] = []
            for description in policyByName[install.aptName]?.sources(of: install.candidateVersion) ?? [] {
                if let origin = sources[description], !origins.contains(origin) { origins.append(origin) }
            }
            if origins.isEmpty { origins = install.releases }
            if origins.count > PackageOrigin.maxPerCandidate {
                // Keep the security origins: they decide how the update is treated.
                origins = Array((origins.filter(\.isSecurity) + origins.filter { !$0.isSecurity })
                    .prefix(PackageOrigin.maxPerCandidate))
            }
            let candidate = UpgradeCandidate(
                name: install.name, architecture: install.architecture, installedVersion: install.installedVersion,
                candidateVersion: install.candidateVersion, origins: origins
            )
            if seen.insert(candidate.key).inserted { candidates.append(candidate) }
        }
        return candidates
    }

    /// Runs a command that must succeed and returns its standard output.
    private func required(
        _ executable: String, _ arguments: [String], display: String, timeout: Duration
    ) async throws -> String {
        let result = try await runner.run(executable, arguments, environment: [:], timeout: timeout)
        guard result.status == 0 else { throw CommandError.failed(display, result) }
        return result.stdout
    }

    private func unattendedUpgrades(installed: [InstalledPackage]) async -> UnattendedUpgradesStatus {
        guard installed.contains(where: { $0.name.rawValue == "unattended-upgrades" }) else {
            // Nothing else matters when the package is absent, so nothing else is run.
            return HostFacts.unattendedUpgradesStatus(packageInstalled: false, aptConfig: .success(""), timer: .noSystemd)
        }
        let aptConfig: Result<String, CommandError>
        do {
            aptConfig = .success(try await required("apt-config", ["dump"], display: "apt-config dump", timeout: .seconds(30)))
        } catch let error as CommandError {
            aptConfig = .failure(error)
        } catch {
            aptConfig = .failure(CommandError(command: "apt-config", kind: .launchFailed, description: "\(error)"))
        }
        let timer: HostFacts.TimerState
        do {
            let result = try await runner.run(
                "systemctl", ["is-enabled", "apt-daily-upgrade.timer"], environment: [:], timeout: .seconds(15)
            )
            timer = HostFacts.timerState(from: result)
        } catch let error as CommandError where error.kind == .notFound {
            timer = .noSystemd
        } catch {
            timer = .unknown(CommandError.oneLine("\(error)", limit: 120))
        }
        return HostFacts.unattendedUpgradesStatus(packageInstalled: true, aptConfig: aptConfig, timer: timer)
    }

    private func osRelease() throws(InventoryParseError) -> OSRelease {
        for candidate in ["etc/os-release", "usr/lib/os-release"] {
            if let text = try read(candidate) { return HostFacts.parseOSRelease(text) }
        }
        return HostFacts.parseOSRelease("")
    }

    private func rebootRequired() throws(InventoryParseError) -> (required: Bool, packages: [String]) {
        guard FileManager.default.fileExists(atPath: path("var/run/reboot-required")) else { return (false, []) }
        let packages = try read("var/run/reboot-required.pkgs").map(HostFacts.parseRebootRequiredPackages) ?? []
        return (true, packages)
    }

    /// The file's text, or `nil` when it does not exist.
    private func read(_ relative: String) throws(InventoryParseError) -> String? {
        let full = path(relative)
        guard FileManager.default.fileExists(atPath: full) else { return nil }
        let attributes = (try? FileManager.default.attributesOfItem(atPath: full)) ?? [:]
        if attributes[.type] as? FileAttributeType == .typeDirectory { return nil }
        let size = attributes[.size] as? Int ?? 0
        guard size <= Self.maxFileSize, let data = FileManager.default.contents(atPath: full) else {
            throw InventoryParseError(
                source: full, line: nil, reason: size > Self.maxFileSize ? "larger than 1 MiB" : "cannot be read"
            )
        }
        return String(decoding: data, as: UTF8.self)
    }

    private func path(_ relative: String) -> String {
        fileRoot.hasSuffix("/") ? fileRoot + relative : fileRoot + "/" + relative
    }
}
