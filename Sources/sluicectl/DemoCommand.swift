import ArgumentParser
import Foundation
import SluiceAPI
import SluiceClient
import SluiceCore
import SluiceSimulator
import SluiceStore

enum DemoScenario: String, ExpressibleByArgument, CaseIterable {
    /// SPM-2024-003: the bind9 update refuses the production resolvers' config.
    case incident
    /// The update is fine: every wave passes.
    case clean
    /// The update installs and validates but the resolver fails its health checks after the restart.
    case healthFailure = "health-failure"
    /// The first canary resolver stops reporting as soon as it is told to apply.
    case silentHost = "silent-host"
    /// A clean update, paused by the operator mid-rollout and resumed.
    case pause
}

/// `sluicectl demo`: a real sluiced on loopback, a simulated fleet speaking the real API, the
/// incident replayed on a compressed clock, then the same fleet under unattended-upgrades.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Replay the SPM-2024-003 bind9 incident against a real sluiced and a simulated fleet, and compare with unattended-upgrades.",
        discussion: """
            Starts the sluiced beside this sluicectl on a free loopback port with a temporary SQLite \
            file, enrolls a simulated fleet over the real HTTP API (two regions with two DNS resolvers \
            each, a test resolver, app servers), rolls out the bind9 update, approves the manual waves \
            as the demo operator, and prints the comparison with the unattended-upgrades model. \
            Everything it creates is removed when it ends.
            """)

    @Option(help: "incident, clean, health-failure, silent-host or pause.") var scenario: DemoScenario = .incident
    @Option(help: "Hosts in the fleet (at least 5: the test resolver and four production resolvers; the rest are app servers).")
    var hosts: Int = 40
    @Option(help: "Seed of the unattended-upgrades model's randomized timer delays.") var seed: UInt64 = 1
    @Option(help: "Give up after this many seconds.") var timeout: Int = 120

    func validate() throws {
        guard hosts >= 5 else { throw ValidationError("--hosts must be at least 5 (the test resolver and two resolvers in each of two regions)") }
        guard hosts <= 10_000 else { throw ValidationError("--hosts is limited to 10000 in the demo") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let demo = try DemoController.start()
        DemoController.installSignalCleanup(demo)
        do {
            try await DemoRun(scenario: scenario, hostCount: hosts, seed: seed, timeout: timeout, controller: demo).run()
            demo.cleanUp()
        } catch {
            demo.cleanUp()
            throw error
        }
    }
}

/// The demo's sluiced: its process, temporary directory and tokens; `cleanUp` is idempotent.
final class DemoController: @unchecked Sendable {
    let directory: String
    let process: Process
    let url: String
    let adminToken: String
    let enrollToken: String
    private let lock = NSLock()
    private var cleaned = false

    static let policy = """
        # The demo's policy: on the compressed clock a soak of an hour takes a second.
        name: demo
        groups: {labels: [role, region], max_unavailable: 1}
        waves:
          - {name: test, select: {environment: test, role: dns-resolver}, strategy: all, soak: 1s}
          - {name: canary, select: {environment: production, role: dns-resolver}, strategy: one-per-group, soak: 2s, approval: manual, failure_budget: 0}
          - {name: rest, select: {environment: production, role: dns-resolver}, strategy: {batches: 1}, soak: 1s, failure_budget: 0}
        roles:
          dns-resolver: {}
        """

    private init(directory: String, process: Process, url: String, adminToken: String, enrollToken: String) {
        self.directory = directory
        self.process = process
        self.url = url
        self.adminToken = adminToken
        self.enrollToken = enrollToken
    }

    /// The sluiced beside this executable.
    static func sluicedPath() throws -> String {
        var candidates: [URL] = []
        if let url = Bundle.main.executableURL { candidates.append(url.resolvingSymlinksInPath().deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        for dir in candidates {
            let path = dir.appendingPathComponent("sluiced").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw InvalidInput("cannot find sluiced beside sluicectl (looked in \(candidates.map(\.path).joined(separator: ", "))): build it with `swift build`")
    }

    static func start() throws -> DemoController {
        let sluiced = try sluicedPath()
        let directory = NSTemporaryDirectory() + "sluice-demo-" + UUID().uuidString
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory + "/policies", withIntermediateDirectories: true)
        do {
            try policy.write(toFile: directory + "/policies/demo.yaml", atomically: true, encoding: .utf8)
            // The shortest silence the controller accepts, so the silent-host scenario shows in seconds.
            try "stale_after: 10s\n".write(toFile: directory + "/sluiced.yaml", atomically: true, encoding: .utf8)
            let db = directory + "/sluice.sqlite"
            let admin = try runTool(sluiced, ["token", "create", "--name", "demo", "--db", db])
            let enroll = try runTool(sluiced, ["enroll-token", "create", "--name", "demo-fleet", "--uses", "100000", "--db", db])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: sluiced)
            process.arguments = [
                "--config", directory + "/sluiced.yaml", "--db", db, "--policies", directory + "/policies",
                "--listen", "127.0.0.1:0", "--port-file", directory + "/port",
            ]
            _ = fm.createFile(atPath: directory + "/sluiced.log", contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/sluiced.log"))
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(30)
            var port: String?
            while Date() < deadline {
                if let text = try? String(contentsOfFile: directory + "/port", encoding: .utf8), text.hasSuffix("\n") {
                    port = text.trimmingCharacters(in: .whitespacesAndNewlines)
                    break
                }
                guard process.isRunning else { break }
                Thread.sleep(forTimeInterval: 0.05)
            }
            guard let port else {
                let log = (try? String(contentsOfFile: directory + "/sluiced.log", encoding: .utf8)) ?? ""
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                throw InvalidInput("sluiced did not start:\n\(log)")
            }
            return DemoController(directory: directory, process: process, url: "http://127.0.0.1:\(port)", adminToken: admin, enrollToken: enroll)
        } catch {
            try? fm.removeItem(atPath: directory)
            throw error
        }
    }

    /// Runs `sluiced token create` and friends; returns the token printed.
    static func runTool(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw InvalidInput("sluiced \(arguments.prefix(2).joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops sluiced (SIGTERM, then SIGKILL after 2 s: its database is thrown away anyway) and removes the temporary directory.
    func cleanUp() {
        lock.lock()
        defer { lock.unlock() }
        guard !cleaned else { return }
        cleaned = true
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(2)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    nonisolated(unsafe) private static var signalSources: [any DispatchSourceSignal] = []

    /// Ctrl-C or SIGTERM: clean up, then exit with 128+signal.
    static func installSignalCleanup(_ demo: DemoController) {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                demo.cleanUp()
                FileHandle.standardError.write(Data("\nsluicectl demo: interrupted; sluiced stopped and temporary files removed\n".utf8))
                exit(128 + sig)
            }
            source.resume()
            signalSources.append(source)
        }
    }
}

/// One run of the demo against a started controller.
struct DemoRun {
    let scenario: DemoScenario
    let hostCount: Int
    let seed: UInt64
    let timeout: Int
    let controller: DemoController

    /// The compressed clock: one real second stands for one hour.
    static let compression = 3600.0

    var fleetHosts: [SimulatedHost] {
        let outcome: ApplyOutcome? =
            switch scenario {
            case .incident: .rolledBackBeforeRestart
            case .healthFailure: .rolledBackAfterRestart
            case .clean, .pause, .silentHost: nil
            }
        var hosts = DemoFleet.hosts(appServers: hostCount - 5, brokenOutcome: outcome)
        if scenario == .silentHost, let i = hosts.firstIndex(where: { $0.id == "dns1.osc-fr1" }) { hosts[i].silentOnAssignment = true }
        return hosts
    }

    func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    func run() async throws {
        let started = Date()
        let hosts = fleetHosts
        say("Sluice demo: scenario \(scenario.rawValue), \(hosts.count) simulated hosts, seed \(seed)")
        say("  controller: sluiced at \(controller.url) (temporary SQLite in \(controller.directory))")
        say("  compressed clock: a soak of an hour takes a second (the demo policy soaks 1h, 2h, 1h: 1 s, 2 s, 1 s)")
        say("  update: \(DemoFleet.package) \(DemoFleet.installedVersion) -> \(DemoFleet.candidateVersion) (drops dnssec-enable)")
        switch scenario {
        case .incident: say("  script: production resolvers still use dnssec-enable (config drift); the test resolver's config was cleaned")
        case .healthFailure: say("  script: production resolvers validate but fail their health checks after the restart")
        case .silentHost: say("  script: dns1.osc-fr1 goes silent as soon as it is told to apply")
        case .pause: say("  script: the operator pauses the rollout mid-way, then resumes it")
        case .clean: say("  script: the update is good everywhere")
        }

        let simulator = FleetSimulator(controller: controller.url, enrollToken: controller.enrollToken, hosts: hosts)
        let clients = try await simulator.enrollAll()
        say("fleet: \(clients.count) hosts enrolled and reported their inventory over HTTP")
        let fleet = Task { await simulator.run(clients: clients) }
        defer { fleet.cancel() }

        let operatorClient = try SluiceHTTPClient(controller: controller.url, token: controller.adminToken)
        let created = try await operatorClient.createRollout(CreateRolloutRequest(policy: "demo"))
        let id = created.summary.id
        say("rollout \(id) created: \(created.summary.packages.map { "\($0.name)=\($0.version)" }.joined(separator: " ")), waves \(created.waves.map { "\($0.name)(\($0.hosts.count))" }.joined(separator: ", "))")

        var lastStates: [String: String] = [:]
        var lastWaiting: [String] = []
        var approved: Set<String> = []
        var paused = false, resumed = false
        var silentSince: Date?
        var haltSeenMs: Int64?
        var final = created
        let deadline = started.addingTimeInterval(Double(timeout))
        while Date() < deadline {
            let detail = try await operatorClient.rollout(id)
            final = detail
            let t = String(format: "%6.2fs", Date().timeIntervalSince(started))
            // Changes only: one line per wave or host state change (a plain log, on a TTY too).
            for wave in detail.waves {
                let key = "wave \(wave.name)"
                if lastStates[key] != wave.state.rawValue {
                    lastStates[key] = wave.state.rawValue
                    say("[\(t)] wave \(wave.name): \(wave.state.rawValue)\(wave.state == .soaking ? " (soak \(wave.soakSeconds) s = \(wave.soakSeconds) h)" : "")")
                }
                for host in wave.hosts {
                    let key = "host \(host.hostID)"
                    if lastStates[key] != host.state.rawValue {
                        lastStates[key] = host.state.rawValue
                        let detailText = host.state == .pending || host.detail == host.state.rawValue ? "" : host.detail.map { ": \($0)" } ?? ""
                        say("[\(t)]   \(host.group)  \(host.hostID): \(host.state.rawValue)\(detailText)")
                    }
                }
            }
            if detail.summary.state.rawValue != lastStates["rollout"] {
                lastStates["rollout"] = detail.summary.state.rawValue
                say("[\(t)] rollout \(id): \(detail.summary.state.rawValue)\(detail.summary.reason.map { ": \($0)" } ?? "")")
                if detail.summary.state == .halted { haltSeenMs = Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
            }
            // A line that only differs by a counter ("silent for 11s") is not news.
            let waitingKey = detail.waitingOn.map { $0.filter { !$0.isNumber } }
            if waitingKey != lastWaiting {
                lastWaiting = waitingKey
                for line in detail.waitingOn { say("[\(t)]   waiting: \(line)") }
            }
            if detail.summary.state.isFinished { break }

            // The demo operator's decisions.
            if detail.summary.state == .running,
                let wave = detail.waves.first(where: { $0.state == .pending && $0.approval == .manual && $0.approvedBy == nil }),
                detail.waves.prefix(wave.index).allSatisfy({ $0.state == .passed }), !approved.contains(wave.name)
            {
                approved.insert(wave.name)
                _ = try await operatorClient.decide("approve", rollout: id, DecisionRequest(wave: wave.name, reason: "demo operator: test wave passed its soak"))
                say("[\(t)] operator:demo approves wave \(wave.name)")
            }
            if scenario == .pause, !paused, detail.waves.count > 2, detail.waves[1].state == .passed || detail.waves[2].state != .pending {
                paused = true
                _ = try await operatorClient.decide("pause", rollout: id, DecisionRequest(reason: "demo operator: checking dashboards"))
                say("[\(t)] operator:demo pauses the rollout; nothing new starts (3 s)")
                try await Task.sleep(for: .seconds(3))
                let held = try await operatorClient.rollout(id)
                let startedWhilePaused = held.waves.flatMap(\.hosts).filter { $0.state != .pending && lastStates["host \($0.hostID)"] == AssignmentState.pending.rawValue }
                say("[\(String(format: "%6.2fs", Date().timeIntervalSince(started)))] after 3 s paused: rollout \(held.summary.state.rawValue), \(startedWhilePaused.count) host(s) started; waiting: \(held.waitingOn.joined(separator: "; "))")
                _ = try await operatorClient.decide("resume", rollout: id, DecisionRequest(reason: "demo operator: dashboards fine"))
                resumed = true
                say("[\(String(format: "%6.2fs", Date().timeIntervalSince(started)))] operator:demo resumes the rollout")
            }
            if scenario == .silentHost, detail.waitingOn.contains(where: { $0.contains("silent") }) {
                if silentSince == nil { silentSince = Date() }
                if let since = silentSince, Date().timeIntervalSince(since) > 2 {
                    _ = try await operatorClient.decide("abort", rollout: id, DecisionRequest(reason: "demo operator: dns1.osc-fr1 is silent; aborting"))
                    say("[\(t)] operator:demo aborts the rollout: promotion stayed blocked by the silent host")
                    silentSince = .distantFuture
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        _ = resumed
        await simulator.record.stop()
        fleet.cancel()
        guard final.summary.state.isFinished else {
            throw InvalidInput("the rollout did not finish within \(timeout) s (state \(final.summary.state.rawValue)); sluiced log in \(controller.directory)/sluiced.log")
        }

        // The rollout's audit history: through the API when this sluiced serves it; otherwise
        // read its SQLite file (read-only).
        let history: RolloutHistory
        do {
            history = try await operatorClient.rolloutHistory(id)
        } catch {
            history = try SluiceDatabase.openReadOnly(path: controller.directory + "/sluice.sqlite").rolloutHistory(id)
        }

        // The comparison.
        let breaks = scenario == .incident || scenario == .healthFailure
        let model = UnattendedUpgradesModel.run(DemoFleet.modelHosts(hosts, breaks: breaks), .init(seed: seed))
        let byID = Dictionary(uniqueKeysWithValues: hosts.map { ($0.id, $0) })
        // Down time from the audit log (restart to recovery, by the postmortem's rule), for the
        // hosts the update failed on, on the compressed clock: a successful restart is not counted,
        // as the model does not count one either.
        let intervals = Postmortem.intervals(history.events, rolloutID: id, asOfMs: history.asOfMs)
        let assignments = final.waves.flatMap(\.hosts)
        let sluiceHosts = assignments.map { a in
            let h = byID[a.hostID.rawValue]
            let failedHere = a.state == .rolledBack || a.state == .failed
            let downMs = failedHere ? intervals.filter { $0.host == a.hostID.rawValue }.reduce(Int64(0)) { $0 + $1.toMs - $1.fromMs } : 0
            let down = Int((Double(downMs) / 1000 * Self.compression).rounded())
            return Comparison.SluiceHost(host: a.hostID.rawValue, region: h?.region ?? "", role: h?.role ?? "", state: a.state, downSeconds: down)
        }
        let resolverCounts = Dictionary(grouping: hosts.filter { $0.role == "dns-resolver" && $0.labels["environment"] == "production" }, by: \.region)
            .mapValues(\.count)
        let firstFailure = await simulator.record.firstFailure
        // The halt is not on the compressed clock: it is the controller's real reaction time on loopback.
        let haltMs: Int64? = firstFailure.flatMap { f in haltSeenMs.map { max(0, $0 - f.atMs) } }
        let haltSeconds: Int? = haltMs.map { Int($0 / 1000) }
        let sluice = Comparison.sluice(
            sluiceHosts, fleetResolvers: resolverCounts, firstFailureToHaltSeconds: haltSeconds, anyFailure: firstFailure != nil)
        say("")
        say(Self.comparison(sluice: sluice, model: model, seed: seed, haltMs: haltMs, halted: final.summary.state == .halted))

        // The postmortem of the Sluice run, from the audit log (issue 5's generator).
        say("")
        say("The postmortem of the Sluice run, generated from its audit log (its times are real: a 1 s soak stood for an hour):")
        say(Postmortem(history: history).markdown(zone: TimeZone(identifier: "UTC") ?? .current, slo: 99.9))
        say("demo finished in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; sluiced stopped and temporary files removed")
    }

    static func minutes(_ seconds: Int) -> String {
        seconds % 60 == 0 ? "\(seconds / 60) min" : String(format: "%.1f min", Double(seconds) / 60)
    }

    static func clock(_ seconds: Int) -> String { String(format: "%02d:%02d", seconds / 3600, seconds / 60 % 60) }

    static func comparison(sluice: Comparison.Figures, model: Comparison.Figures, seed: UInt64, haltMs: Int64?, halted: Bool) -> String {
        var rows: [(String, String, String)] = []
        func list(_ names: [String]) -> String { names.count <= 2 && !names.isEmpty ? "\(names.count) (\(names.joined(separator: ", ")))" : "\(names.count)" }
        rows.append(("regions that lost all resolvers", list(model.regionsLost), list(sluice.regionsLost)))
        rows.append(("resolver-minutes down (1 s = 1 h)", minutes(model.resolverSecondsDown), minutes(sluice.resolverSecondsDown)))
        rows.append(("region-minutes without DNS", minutes(model.regionSecondsWithoutDNS), minutes(sluice.regionSecondsWithoutDNS)))
        rows.append((
            "first failure to detection", model.firstFailureToDetectionSeconds.map(minutes) ?? "no failure",
            sluice.firstFailureToDetectionSeconds.map { _ in "0 min (the agent's own check failed)" } ?? "no failure"
        ))
        rows.append((
            "first failure to halt", model.firstFailureToDetectionSeconds == nil ? "no failure" : "never (no halt)",
            haltMs.map { String(format: "%.2f s (real time, polled every 0.1 s)", Double($0) / 1000) } ?? (halted ? "halted" : "no failure")
        ))
        rows.append(("hosts left broken", list(model.hostsBroken), list(sluice.hostsBroken)))
        rows.append(("hosts the update touched", "\(model.hostsChanged)", "\(sluice.hostsChanged)"))
        let w0 = rows.map(\.0.count).max()! + 2, w1 = max(rows.map(\.1.count).max()!, 22) + 2
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        var out = "Side by side: the same fleet and update under unattended-upgrades (model, seed \(seed)) and under Sluice (this run)\n"
        out += pad("", w0) + pad("unattended-upgrades", w1) + "Sluice\n"
        for (label, a, b) in rows { out += pad(label, w0) + pad(a, w1) + b + "\n" }
        if !model.breakages.isEmpty {
            out += "unattended-upgrades timeline (apt-daily-upgrade.timer at 06:00, RandomizedDelaySec=60m; detection after 20 min, fix 40 min after a region's first failure):\n"
            for b in model.breakages { out += "  \(clock(b.brokenAt)) \(b.host) breaks (named refuses its config), fixed at \(clock(b.fixedAt))\n" }
        }
        return out
    }
}
