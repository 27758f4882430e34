import Hummingbird
import SluiceAPI
import SluiceCore
import SluiceStore

/// Policies, rollout plans and rollouts, and the operators' decisions on them.
struct RolloutRoutes {
    let database: SluiceDatabase
    let clock: any WallClock
    let settings: ControllerSettings
    let policies: [String: Policy]
    let signal: ChangeSignal
    let simulations: SimulationBoard

    func register(on api: APIRouter) {
        registerResolve(on: api)
        registerRevert(on: api)
        api.add(.listPolicies) { _, _, _ in
            JSONResponse(PolicyList(policies: policies.values.sorted { $0.name < $1.name }))
        }

        api.add(.planRollout) { request, context, _ in
            let body = try await request.decodeJSON(CreateRolloutRequest.self, context: context)
            let (_, plan) = try await makePlan(body)
            return JSONResponse(plan)
        }

        api.add(.createRollout) { request, context, caller in
            let body = try await request.decodeJSON(CreateRolloutRequest.self, context: context)
            let (policy, plan) = try await makePlan(body)
            if let refusal = plan.refusal { throw APIError.conflict("rollout not created: \(refusal)") }
            let id = try database.createRollout(policy: policy, plan: plan, actor: caller.actor, nowMs: clock.nowMs())
            signal.signal()
            return JSONResponse(try database.rolloutDetail(id, nowMs: clock.nowMs(), staleAfterMs: settings.staleAfterMs), status: .created)
        }

        api.add(.listRollouts) { _, _, _ in
            JSONResponse(RolloutList(rollouts: try database.listRollouts()))
        }

        api.add(.getRollout) { _, context, _ in
            JSONResponse(try database.rolloutDetail(try rolloutID(context), nowMs: clock.nowMs(), staleAfterMs: settings.staleAfterMs))
        }

        for (route, decision) in [(APIRoute.pauseRollout, "pause"), (.resumeRollout, "resume"), (.abortRollout, "abort"), (.approveWave, "approve")] {
            api.add(route) { request, context, caller in
                let body = try await request.decodeJSON(DecisionRequest.self, context: context)
                if let reason = body.reason { try checkReason(reason) }
                try checkWave(body.wave)
                let id = try rolloutID(context)
                let choice: SluiceDatabase.Decision =
                    switch decision {
                    case "pause": .pause
                    case "resume": .resume
                    case "abort": .abort
                    default: .approve(wave: body.wave)
                    }
                if decision != "approve" && (body.reason ?? "").isEmpty {
                    throw APIError.invalid("reason: required to \(decision) a rollout")
                }
                try database.decide(choice, rollout: id, reason: body.reason, actor: caller.actor, nowMs: clock.nowMs())
                signal.signal()
                return JSONResponse(try database.rolloutDetail(id, nowMs: clock.nowMs(), staleAfterMs: settings.staleAfterMs))
            }
        }
    }

    func registerRevert(on api: APIRouter) {
        api.add(.revertRollout) { request, context, caller in
            let body = try await request.decodeJSON(RevertRequest.self, context: context)
            guard !body.reason.isEmpty else { throw APIError.invalid("reason: required to revert a rollout") }
            try checkReason(body.reason)
            let id = try database.revertRollout(try rolloutID(context), host: body.host, reason: body.reason, actor: caller.actor, nowMs: clock.nowMs())
            signal.signal()
            return JSONResponse(try database.rolloutDetail(id, nowMs: clock.nowMs(), staleAfterMs: settings.staleAfterMs), status: .created)
        }
    }

    func registerResolve(on api: APIRouter) {
        api.add(.resolveHost) { request, context, caller in
            let body = try await request.decodeJSON(DecisionRequest.self, context: context)
            try checkWave(body.wave)
            guard let reason = body.reason, !reason.isEmpty else { throw APIError.invalid("reason: required to resolve a host's failures") }
            try checkReason(reason)
            let host = caller.pathHost!
            let count = try database.resolveFailures(host: host, reason: reason, actor: caller.actor, nowMs: clock.nowMs())
            signal.signal()
            return JSONResponse(ResolveResponse(hostID: host, resolved: count))
        }
    }

    /// The waves, then each taking host's own `apt-get -s` of its pins, and the policy's
    /// `dependencies` rule applied to the answers.
    func makePlan(_ body: CreateRolloutRequest) async throws -> (Policy, RolloutPlan) {
        guard let policy = policies[body.policy] else {
            throw APIError.notFound("no policy \(quoted(body.policy)); known: \(policies.keys.sorted().joined(separator: ", "))")
        }
        let hosts = try database.fleetHosts()
        let packages = body.packages ?? WavePlanner.qualifyingPackages(policy: policy, hosts: hosts)
        if let packages = body.packages, packages.isEmpty { throw APIError.invalid("packages: give at least one name=version, or leave it out") }
        var plan = WavePlanner.plan(policy: policy, packages: packages, hosts: hosts, nowMs: clock.nowMs(), staleAfterMs: settings.staleAfterMs)
        guard settings.planSimulationTimeoutSeconds > 0, !plan.waves.allSatisfy({ $0.hosts.isEmpty }) else { return (policy, plan) }
        let simulation = await simulate(plan.pinsByHost)
        plan.simulation = simulation
        let byID = Dictionary(uniqueKeysWithValues: hosts.map { ($0.id, $0) })
        let decision = DependencyClosure.decide(simulation, rule: policy.dependencies) { host, change in
            guard let fleetHost = byID[host],
                let candidate = fleetHost.candidates.first(where: { $0.name == change.name && $0.candidateVersion == change.to })
            else { return false }
            return policy.qualify.admitsOrigin(of: candidate, codename: fleetHost.codename)
        }
        switch decision {
        case .accept: break
        case .include(let extra): plan.include(extra, simulation: simulation)
        case .refuse(let why): plan.refusal = why
        }
        return (policy, plan)
    }

    /// Asks every listening host what apt would do with its pins, and waits for the answers
    /// until all came or the timeout ran out.
    func simulate(_ pins: [HostID: [PackagePin]]) async -> PlanSimulation {
        let (id, asked, notListening) = simulations.ask(pins, nowMs: clock.nowMs())
        defer { simulations.withdraw(id) }
        signal.signal(hosts: asked)
        let deadline = ContinuousClock.now.advanced(by: .seconds(settings.planSimulationTimeoutSeconds))
        while true {
            let seen = signal.current
            let (answers, complete) = simulations.answers(id)
            if complete || ContinuousClock.now >= deadline || Task.isCancelled {
                let late = asked.filter { answers[$0] == nil }.map {
                    UnansweredHost(hostID: $0, reason: "no answer within \(settings.planSimulationTimeoutSeconds)s (busy applying, or its agent is older)")
                }
                let silent = notListening.map { UnansweredHost(hostID: $0, reason: "its agent is not polling the controller") }
                return PlanSimulation.group(answers: answers, pins: pins, unknown: late + silent)
            }
            await signal.wait(after: seen, timeout: deadline - ContinuousClock.now)
        }
    }

    func rolloutID(_ context: SluiceRequestContext) throws -> Int64 {
        try context.pathID("rolloutID", naming: "rollout id")
    }

    /// `wave`, when given, is a name: never empty (`minLength: 1` in the document; found by
    /// scripts/fuzz-api, a pause with `"wave": ""` was accepted).
    func checkWave(_ wave: String?) throws {
        if wave?.isEmpty == true { throw APIError.invalid("wave: must not be empty; leave it out for the first wave that waits for an approval") }
    }

    func checkReason(_ reason: String) throws {
        do { try checkText(reason, field: "reason", max: 1000, allowEmpty: true) } catch {
            throw APIError.invalid("reason: at most 1000 bytes of printable text")
        }
    }
}
