import SluiceCore
import Synchronization

/// The plan's `apt-get -s` questions to agents and their answers, while a `rollout plan` or
/// `rollout create` waits for them. In memory: a question lives only as long as the request
/// that asked it, and a controller restart loses nothing an operator relies on (the plan is
/// simply asked again).
final class SimulationBoard: Sendable {
    /// A host that polled for its assignment this recently is listening; others are not asked.
    static let listeningMs: Int64 = Int64(AgentRoutes.maxWaitSeconds + 30) * 1000

    private struct Question {
        var packages: [HostID: [PackagePin]]
        var answers: [HostID: SimulationReport] = [:]
    }

    private struct State {
        var lastPollMs: [HostID: Int64] = [:]
        var questions: [Int64: Question] = [:]
        var nextID: Int64
    }

    private let state: Mutex<State>

    init() {
        // Ids of one controller run never meet those of an earlier run: a late answer from
        // before a restart names a question nobody asked.
        state = Mutex(State(nextID: Int64.random(in: 1...(1 << 52))))
    }

    /// Called on every assignment poll.
    func polled(_ host: HostID, nowMs: Int64) {
        state.withLock { $0.lastPollMs[host] = nowMs }
    }

    /// Splits `packages` (each host's pins) into the hosts asked now and those that are not
    /// listening; returns the question's id.
    func ask(_ packages: [HostID: [PackagePin]], nowMs: Int64) -> (id: Int64, asked: [HostID], notListening: [HostID]) {
        state.withLock { state in
            var asked: [HostID: [PackagePin]] = [:]
            var silent: [HostID] = []
            for (host, pins) in packages {
                if let seen = state.lastPollMs[host], nowMs - seen <= Self.listeningMs { asked[host] = pins } else { silent.append(host) }
            }
            let id = state.nextID
            state.nextID += 1
            if !asked.isEmpty { state.questions[id] = Question(packages: asked) }
            return (id, asked.keys.sorted(), silent.sorted())
        }
    }

    /// The oldest question this host has not answered yet.
    func pending(for host: HostID) -> SimulationRequest? {
        state.withLock { state in
            for id in state.questions.keys.sorted() {
                let question = state.questions[id]!
                if let pins = question.packages[host], question.answers[host] == nil { return SimulationRequest(id: String(id), packages: pins) }
            }
            return nil
        }
    }

    /// Records an answer. Returns `false` when nobody asked this host this question (or
    /// nobody waits for it any more).
    func answer(_ id: Int64, host: HostID, _ report: SimulationReport) -> Bool {
        state.withLock { state in
            guard state.questions[id]?.packages[host] != nil else { return false }
            if state.questions[id]!.answers[host] == nil { state.questions[id]!.answers[host] = report }
            return true
        }
    }

    /// The answers so far, and whether every asked host answered.
    func answers(_ id: Int64) -> (answers: [HostID: SimulationReport], complete: Bool) {
        state.withLock { state in
            guard let question = state.questions[id] else { return ([:], true) }
            return (question.answers, question.answers.count == question.packages.count)
        }
    }

    /// The asker stopped waiting: the question is withdrawn from every poll.
    func withdraw(_ id: Int64) {
        _ = state.withLock { $0.questions.removeValue(forKey: id) }
    }
}
