/// The decision function of the controller: reads a snapshot, returns actions. No I/O.
///
/// It re-runs on a timer and on every change, so it never relies on having seen an event:
/// whatever the snapshot says, the actions move the fleet one safe step further, and
/// nothing it returns can break the design's invariants (tests check that after every step).
public enum Reconciler {
    public static func decide(_ snapshot: ReconcileSnapshot, nowMs: Int64) -> [ReconcileAction] {
        var actions: [ReconcileAction] = []
        // One availability budget per group across all rollouts and policies, updated as this
        // pass starts hosts: members in flight or failed anywhere, and members unhealthy or
        // silent whether in a rollout or not, are unavailable.
        var availability = GroupAvailability(snapshot, nowMs: nowMs)
        let byRollout = Dictionary(grouping: snapshot.assignments, by: \.rolloutID)
        // Hosts changing right now, in any rollout: such a host waits for that to end.
        var busyHosts = Set(snapshot.assignments.filter(\.state.isInFlight).map(\.hostID))

        for rollout in snapshot.rollouts.sorted(by: { $0.id < $1.id }) where rollout.state == .running || rollout.state == .paused {
            let assignments = byRollout[rollout.id] ?? []
            guard let current = rollout.waves.first(where: { $0.state != .passed }) else {
                if rollout.state == .running { actions.append(.complete(rollout: rollout.id)) }
                continue
            }
            let spec = rollout.policy.waves[current.index]
            let mine = assignments.filter { $0.waveIndex == current.index }

            // Silence is failure: report every silent host that is changing or soaking.
            var silent = Set<HostID>()
            for a in mine where a.state.isInFlight || (current.state == .soaking && a.state == .succeeded) {
                let seen = snapshot.hosts[a.hostID]?.lastSeenAtMs ?? Int64.min / 2
                if nowMs - seen > snapshot.staleAfterMs {
                    silent.insert(a.hostID)
                    actions.append(.reportSilent(rollout: rollout.id, host: a.hostID, silentForMs: nowMs - seen))
                }
            }

            // Silence is failure: a host told to go with no result by the wave's apply deadline
            // has failed. Nothing else moves in this rollout this pass; the next pass counts it.
            let overdue = mine.filter { a in
                a.state.isInFlight && a.startedAtMs.map { nowMs - $0 > spec.applyDeadlineSeconds * 1000 } == true
            }
            if !overdue.isEmpty {
                for a in overdue {
                    actions.append(.expireAssignment(rollout: rollout.id, assignment: a.id, host: a.hostID, deadlineSeconds: spec.applyDeadlineSeconds))
                }
                continue
            }

            // Failures beyond the budget halt at once, paused or not.
            let failures = mine.filter { $0.state.isFailure }
            if failures.count > spec.failureBudget {
                let names = failures.map(\.hostID.description).sorted().joined(separator: ", ")
                actions.append(.halt(rollout: rollout.id, wave: current.index, reason: "wave \(spec.name): \(failures.count) host(s) failed (\(names)), budget \(spec.failureBudget)"))
                continue
            }
            // A host this rollout updated that turns unhealthy, in any wave so far, halts it.
            let sick = assignments.filter { $0.state == .succeeded && $0.waveIndex <= current.index && snapshot.hosts[$0.hostID]?.healthy == false }
            if let first = sick.sorted(by: { $0.hostID < $1.hostID }).first {
                let when = first.waveIndex == current.index && current.state == .soaking ? "during soak" : "after its update"
                let reason = "wave \(spec.name): host \(first.hostID) unhealthy \(when)"
                if rollout.policy.onFailure == .revert {
                    actions.append(.haltAndRevert(rollout: rollout.id, wave: current.index, reason: reason, hosts: sick.map(\.hostID).sorted()))
                } else {
                    actions.append(.halt(rollout: rollout.id, wave: current.index, reason: reason))
                }
                continue
            }
            // Silence is failure: a host updated by this wave that stops heartbeating during its
            // soak cannot show it is healthy, and counts as unhealthy once it is stale.
            if current.state == .soaking, let first = mine.filter({ $0.state == .succeeded && silent.contains($0.hostID) }).map(\.hostID).min() {
                let seen = snapshot.hosts[first]?.lastSeenAtMs ?? Int64.min / 2
                actions.append(
                    .halt(
                        rollout: rollout.id, wave: current.index,
                        reason: "wave \(spec.name): host \(first) silent during soak (no heartbeat for \(formatDuration(ms: nowMs - seen)))"))
                continue
            }
            guard rollout.state == .running else { continue }

            switch current.state {
            case .pending:
                if mine.isEmpty {
                    actions.append(.passWave(rollout: rollout.id, wave: current.index))
                } else if (spec.approval == .auto || current.approvedBy != nil) && spec.isOpen(atMs: nowMs) {
                    actions.append(.startWave(rollout: rollout.id, wave: current.index))
                }
            case .running:
                // Every host finished, failures (if any) within the budget checked above.
                if mine.allSatisfy(\.state.isFinished) {
                    actions.append(.beginSoak(rollout: rollout.id, wave: current.index))
                    continue
                }
                guard spec.isOpen(atMs: nowMs) else { continue }
                // Batches run in order: the next starts only when every earlier one finished.
                let openBatch = mine.filter { !$0.state.isFinished }.map(\.batch).min() ?? 0
                for a in mine.sorted(by: { ($0.batch, $0.hostID) < ($1.batch, $1.hostID) }) where a.state == .pending && a.batch == openBatch {
                    let health = snapshot.hosts[a.hostID]
                    // A revert goes to a host however unhealthy it reports: that is what it mends.
                    guard let seen = health?.lastSeenAtMs, nowMs - seen <= snapshot.staleAfterMs, health?.healthy != false || rollout.revertOf != nil else { continue }
                    // A host already changing in another rollout waits for it.
                    guard !busyHosts.contains(a.hostID), availability.blocker(for: a.hostID, rollout.policy.groups) == nil else { continue }
                    busyHosts.insert(a.hostID)
                    availability.take(a.hostID)
                    actions.append(.startAssignment(rollout: rollout.id, assignment: a.id, host: a.hostID))
                }
            case .soaking:
                guard let started = current.soakStartedAtMs, nowMs - started >= spec.soakSeconds * 1000 else { continue }
                let held = mine.filter { $0.state == .succeeded }.allSatisfy { a in
                    guard let h = snapshot.hosts[a.hostID], h.healthy == true, let since = h.sinceMs else { return false }
                    return since <= started
                }
                if held { actions.append(.passWave(rollout: rollout.id, wave: current.index)) }
            case .passed, .failed:
                break
            }
        }
        return actions
    }

}
