import Foundation
import Synchronization

/// Asks the fixture DNS server a question every 20 ms on a thread of its own, for as long as
/// a test runs an apply, and remembers every answer: the proof that the service never stopped
/// answering (or which version answered when).
final class ResolverProbe: Sendable {
    struct Tally: Sendable {
        var answered = 0
        var unanswered = 0
        /// Answer addresses in order, consecutive repeats collapsed: ["127.0.0.1", "127.0.0.2"].
        var sequence: [String] = []
    }

    private let root: TestRoot
    private let state = Mutex(Tally())
    private let stopping = Mutex(false)
    private let done = DispatchSemaphore(value: 0)

    init(_ root: TestRoot) {
        self.root = root
    }

    func start() {
        Thread.detachNewThread { [self] in
            // The round that starts after stop() is the last: every apply ends with one probe.
            while true {
                let last = stopping.withLock { $0 }
                let answer = root.ask(timeout: .milliseconds(1500))
                state.withLock { tally in
                    if let answer {
                        tally.answered += 1
                        if tally.sequence.last != answer { tally.sequence.append(answer) }
                    } else {
                        tally.unanswered += 1
                    }
                }
                if last { break }
                usleep(20_000)
            }
            done.signal()
        }
    }

    /// Stops probing and returns what was seen.
    func stop() -> Tally {
        stopping.withLock { $0 = true }
        done.wait()
        return state.withLock { $0 }
    }
}
