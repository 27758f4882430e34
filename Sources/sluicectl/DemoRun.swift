import ArgumentParser
import Foundation
import SluiceAPI
import SluiceClient
import SluiceCore
import SluiceSimulator
import SluiceStore

/// One run of the demo against a started controller.
struct DemoRun {
    let scenario: DemoScenario
    let hostCount: Int
    let seed: UInt64
    let timeout: Int
    let controller: DemoController
    /// The plain log or the live board.
    let screen: DemoScreen

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

    func say(_ text: String) { screen.say(text) }

    /// Every host with its redundancy group by the demo policy's labels (role, region), so that
    /// the board counts the hosts the rollout leaves alone where they belong.
    static func members(_ hosts: [SimulatedHost]) -> [DemoBoard.Member] {
        let rules = GroupRules(labels: ["role", "region"])
        return hosts.map { h in
            DemoBoard.Member(id: h.id, group: (try? Labels(validating: h.labels)).flatMap(rules.groupKey(for:)) ?? h.id)
        }
    }

    /// How long ago the controller heard from each host that could be silent right now (in
    /// flight, or soaking): the board marks one silent past the controller's limit, as the
    /// controller's own promotion check does. Best effort: a failed request leaves a host out.
    static func reportAges(_ detail: RolloutDetail, client: SluiceHTTPClient) async -> [String: Int64] {
        let watched = detail.waves.flatMap { wave in
            wave.hosts.filter { $0.state.isInFlight || ($0.state == .succeeded && wave.state == .soaking) }.map(\.hostID)
        }
        var ages: [String: Int64] = [:]
        for id in watched.prefix(16) {
            guard let seen = try? await client.host(id).summary.lastSeenAtMs else { continue }
            ages[id.description] = max(0, Int64((Date().timeIntervalSince1970 * 1000).rounded()) - seen)
        }
        return ages
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

        let title = "Sluice demo · \(scenario.rawValue) · \(hosts.count) hosts · \(DemoFleet.package) \(DemoFleet.candidateVersion)"
        screen.startBoard(
            .init(title: title, fleet: Self.members(hosts), started: started, staleAfterMs: Int64(DemoController.staleAfterSeconds) * 1000))
        let simulator = FleetSimulator(controller: controller.url, enrollToken: controller.enrollToken, hosts: hosts)
        // Enrolling thousands of hosts takes a while: the board counts them as they come.
        let enrolling = Task { [screen] in
            while !Task.isCancelled && screen.isLive {
                screen.show(phase: "enrolling the fleet over HTTP: \(await simulator.record.enrolled.count) of \(hosts.count) hosts")
                try? await Task.sleep(for: DemoScreen.frameInterval)
            }
        }
        let clients: [String: SluiceHTTPClient]
        do {
            clients = try await simulator.enrollAll()
            enrolling.cancel()
            await enrolling.value  // its last count must not land after the next phase
        } catch {
            enrolling.cancel()
            throw error
        }
        screen.show(phase: "creating the rollout")
        say("fleet: \(clients.count) hosts enrolled and reported their inventory over HTTP")
        let fleet = Task { await simulator.run(clients: clients) }
        defer { fleet.cancel() }

        let operatorClient = try SluiceHTTPClient(controller: controller.url, token: controller.adminToken)
        let created = try await operatorClient.createRollout(CreateRolloutRequest(policy: "demo"))
        let id = created.summary.id
        screen.show(created)
        say("rollout \(id) created: \(created.summary.packages.map { "\($0.name)=\($0.version)" }.joined(separator: " ")), waves \(created.waves.map { "\($0.name)(\($0.hosts.count))" }.joined(separator: ", "))")

        var lastStates: [String: String] = [:]
        var lastWaiting: [String] = []
        var approved: Set<String> = []
        var paused = false, resumed = false
        var silentSince: Date?
        var haltSeenMs: Int64?
        var final = created
        var agesCheckedAt = Date.distantPast
        let deadline = started.addingTimeInterval(Double(timeout))
        while Date() < deadline {
            let detail = try await operatorClient.rollout(id)
            final = detail
            screen.show(detail)
            if screen.isLive, Date().timeIntervalSince(agesCheckedAt) >= 1 {
                agesCheckedAt = Date()
                screen.show(lastReportAgeMs: await Self.reportAges(detail, client: operatorClient))
            }
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
                screen.show(try await operatorClient.decide("approve", rollout: id, DecisionRequest(wave: wave.name, reason: "demo operator: test wave passed its soak")))
                say("[\(t)] operator:demo approves wave \(wave.name)")
            }
            if scenario == .pause, !paused, detail.waves.count > 2, detail.waves[1].state == .passed || detail.waves[2].state != .pending {
                paused = true
                screen.show(try await operatorClient.decide("pause", rollout: id, DecisionRequest(reason: "demo operator: checking dashboards")))
                say("[\(t)] operator:demo pauses the rollout; nothing new starts (3 s)")
                // Still polled, so that the board shows what happens (and what does not) while paused.
                let pausedUntil = Date().addingTimeInterval(3)
                while Date() < pausedUntil {
                    screen.show(try await operatorClient.rollout(id))
                    try await Task.sleep(for: .milliseconds(100))
                }
                let held = try await operatorClient.rollout(id)
                screen.show(held)
                let startedWhilePaused = held.waves.flatMap(\.hosts).filter { $0.state != .pending && lastStates["host \($0.hostID)"] == AssignmentState.pending.rawValue }
                say("[\(String(format: "%6.2fs", Date().timeIntervalSince(started)))] after 3 s paused: rollout \(held.summary.state.rawValue), \(startedWhilePaused.count) host(s) started; waiting: \(held.waitingOn.joined(separator: "; "))")
                screen.show(try await operatorClient.decide("resume", rollout: id, DecisionRequest(reason: "demo operator: dashboards fine")))
                resumed = true
                say("[\(String(format: "%6.2fs", Date().timeIntervalSince(started)))] operator:demo resumes the rollout")
            }
            if scenario == .silentHost, detail.waitingOn.contains(where: { $0.contains("silent") }) {
                if silentSince == nil { silentSince = Date() }
                if let since = silentSince, Date().timeIntervalSince(since) > 2 {
                    screen.show(try await operatorClient.decide("abort", rollout: id, DecisionRequest(reason: "demo operator: dns1.osc-fr1 is silent; aborting")))
                    say("[\(t)] operator:demo aborts the rollout: promotion stayed blocked by the silent host")
                    silentSince = .distantFuture
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        _ = resumed
        screen.finish()
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
            let failedHere = a.state.isFailure
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
}
