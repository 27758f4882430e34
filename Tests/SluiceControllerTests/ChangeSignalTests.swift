import SluiceCore
import Testing

@testable import SluiceController

/// The broadcast that wakes long-polling agents and the reconciler. Each wait below has a
/// timeout of an hour, so a wait that returns was ended by the signal or the cancellation
/// under test; `finishes` only bounds a broken build's hang, it measures nothing.
@Suite("ChangeSignal")
struct ChangeSignalTests {
    static let hour = Duration.seconds(3600)

    /// Waits for `task` to end, giving up after `limit` (a hang guard): whether it ended.
    func finishes(_ task: Task<Void, Never>, within limit: Duration = .seconds(60)) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await task.value
                return true
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
    }

    /// Polls until `count` waiters are parked (they park asynchronously after the task starts).
    func parked(_ signal: ChangeSignal, _ count: Int) async -> Bool {
        for _ in 0..<6000 {
            if signal.waiterCount == count { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test func aSignalWakesAParkedWaiter() async {
        // Given a waiter parked with an hour to go
        let signal = ChangeSignal()
        let seen = signal.current
        let waiter = Task { await signal.wait(after: seen, timeout: Self.hour) }
        #expect(await parked(signal, 1))

        // When something changes
        signal.signal()

        // Then it returns, and nothing stays parked
        #expect(await finishes(waiter))
        #expect(signal.current == seen + 1)
        #expect(signal.waiterCount == 0)
    }

    @Test func aWaitAfterAnOlderGenerationReturnsAtOnce() async {
        let signal = ChangeSignal()
        let seen = signal.current
        signal.signal()
        #expect(await finishes(Task { await signal.wait(after: seen, timeout: Self.hour) }))
        #expect(signal.waiterCount == 0)
    }

    @Test func aWaitReturnsWhenItsTimeoutPasses() async {
        let signal = ChangeSignal()
        let seen = signal.current
        #expect(await finishes(Task { await signal.wait(after: seen, timeout: .milliseconds(20)) }))
        #expect(signal.current == seen, "no signal was sent: the timeout ended it")
        #expect(signal.waiterCount == 0, "the timed-out waiter is no longer registered")
    }

    @Test func cancellingTheWaitingTaskEndsTheWait() async {
        let signal = ChangeSignal()
        let seen = signal.current
        let waiter = Task { await signal.wait(after: seen, timeout: Self.hour) }
        #expect(await parked(signal, 1))
        waiter.cancel()
        #expect(await finishes(waiter))
        #expect(signal.waiterCount == 0)
        // A later signal finds nobody to resume (a leaked continuation would be resumed twice here).
        signal.signal()
    }

    @Test func anAlreadyCancelledTaskDoesNotPark() async {
        let signal = ChangeSignal()
        let seen = signal.current
        let waiter = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await signal.wait(after: seen, timeout: Self.hour)
        }
        #expect(await finishes(waiter))
        #expect(signal.waiterCount == 0)
    }

    @Test func oneSignalWakesEveryWaiter() async {
        // Given 2,000 waiters parked
        let signal = ChangeSignal()
        let seen = signal.current
        let waiters = (0..<2000).map { _ in Task { await signal.wait(after: seen, timeout: Self.hour) } }
        #expect(await parked(signal, waiters.count))

        // When one signal comes
        signal.signal()

        // Then all of them return
        var finished = 0
        for waiter in waiters where await finishes(waiter) { finished += 1 }
        #expect(finished == waiters.count)
        #expect(signal.waiterCount == 0)
    }

    @Test func signalsTimeoutsAndCancellationsRacingLeaveNothingParked() async {
        // Waiters with short timeouts, some cancelled, while signals keep coming: every wait
        // ends exactly once (a double resume traps) and none stays registered.
        // Half of them long-polls of ten hosts, woken by signals for everyone or for some hosts.
        let signal = ChangeSignal()
        let hosts = (0..<10).map { try! HostID(parsing: "host\($0)") }
        let waiters = (0..<500).map { i in
            Task {
                for round in 0..<20 {
                    await signal.wait(
                        host: i % 2 == 0 ? nil : hosts[i % 10], after: signal.current, timeout: .microseconds(50 * ((i + round) % 7 + 1)))
                }
            }
        }
        for (i, waiter) in waiters.enumerated() where i % 5 == 0 { waiter.cancel() }
        let signaller = Task {
            for n in 0..<200 {
                if n % 2 == 0 { signal.signal() } else { signal.signal(hosts: [hosts[n % 10], hosts[(n + 3) % 10]]) }
                await Task.yield()
            }
        }
        await signaller.value
        var finished = 0
        for waiter in waiters where await finishes(waiter) { finished += 1 }
        #expect(finished == waiters.count)
        #expect(signal.waiterCount == 0)
    }

    @Test func aSignalForSomeHostsWakesTheirLongPollsAndTheGeneralWaitersOnly() async throws {
        // Given the reconciler (a general waiter) and two hosts' long-polls, parked
        let signal = ChangeSignal()
        let a = try HostID(parsing: "dns1"), b = try HostID(parsing: "dns2")
        let seen = signal.current
        let reconciler = Task { await signal.wait(after: seen, timeout: Self.hour) }
        let pollA = Task { await signal.wait(host: a, after: seen, timeout: Self.hour) }
        let pollB = Task { await signal.wait(host: b, after: seen, timeout: Self.hour) }
        #expect(await parked(signal, 3))

        // When only dns1's assignment changed
        signal.signal(hosts: [a])

        // Then the reconciler and dns1's poll look again; dns2's stays parked
        #expect(await finishes(reconciler))
        #expect(await finishes(pollA))
        #expect(await parked(signal, 1))

        // And a signal for everyone wakes it
        signal.signal()
        #expect(await finishes(pollB))
        #expect(signal.waiterCount == 0)
    }

    @Test func aHostSignalWithNoHostsWakesOnlyTheGeneralWaiters() async throws {
        let signal = ChangeSignal()
        let seen = signal.current
        let reconciler = Task { await signal.wait(after: seen, timeout: Self.hour) }
        let poll = Task { await signal.wait(host: try! HostID(parsing: "app1"), after: seen, timeout: Self.hour) }
        #expect(await parked(signal, 2))
        signal.signal(hosts: [])
        #expect(await finishes(reconciler))
        #expect(await parked(signal, 1))
        poll.cancel()
        #expect(await finishes(poll))
        #expect(signal.waiterCount == 0, "the cancelled long-poll is no longer registered under its host")
    }

    /// Graceful shutdown: parked long-polls return at once and later ones do not park, so a
    /// stop does not wait for the longest poll; the reconciler's wait is not ended by it.
    @Test func closingLongPollsEndsEveryParkedAndLaterHostWaitButNotTheGeneralOnes() async throws {
        // Given two hosts' long-polls and the reconciler parked with an hour to go
        let signal = ChangeSignal()
        let seen = signal.current
        let reconciler = Task { await signal.wait(after: seen, timeout: Self.hour) }
        let pollA = Task { await signal.wait(host: try! HostID(parsing: "dns1"), after: seen, timeout: Self.hour) }
        let pollB = Task { await signal.wait(host: try! HostID(parsing: "dns2"), after: seen, timeout: Self.hour) }
        #expect(await parked(signal, 3))

        // When the controller shuts down gracefully
        signal.closeLongPolls()

        // Then both polls return, with no generation moved, and the reconciler stays parked
        #expect(await finishes(pollA))
        #expect(await finishes(pollB))
        #expect(signal.longPollsClosed)
        #expect(signal.current == seen)
        #expect(signal.waiterCount == 1)

        // And a long-poll that starts afterwards returns at once instead of parking
        #expect(await finishes(Task { await signal.wait(host: try! HostID(parsing: "dns3"), after: seen, timeout: Self.hour) }))
        #expect(signal.waiterCount == 1)

        reconciler.cancel()
        #expect(await finishes(reconciler))
        #expect(signal.waiterCount == 0)
    }
}
