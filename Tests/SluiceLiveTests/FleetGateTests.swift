import Testing

@testable import SluiceSimulator

/// The simulator's limit on heartbeats in flight: turns are never exceeded, every waiter
/// gets one in the end, and a cancelled waiter leaves without one.
@Suite("Fleet simulator: the heartbeat gate")
struct FleetGateTests {
    actor Peak {
        var now = 0, highest = 0
        func enter() {
            now += 1
            highest = max(highest, now)
        }
        func leave() { now -= 1 }
    }

    @Test func noMoreThanTheLimitHoldATurnAndEveryoneGetsOne() async {
        let gate = FleetGate(limit: 3)
        let peak = Peak()
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    guard await gate.acquire() else { return false }
                    await peak.enter()
                    await Task.yield()
                    await peak.leave()
                    gate.release()
                    return true
                }
            }
            var turns = 0
            for await got in group where got { turns += 1 }
            #expect(turns == 50)
        }
        #expect(await peak.highest <= 3)
    }

    @Test func aWaiterCancelledBeforeItsTurnLeavesWithoutOne() async {
        let gate = FleetGate(limit: 1)
        #expect(await gate.acquire())
        let waiter = Task { await gate.acquire() }
        // Let it queue, then cancel it: it returns false and takes no turn.
        for _ in 0..<100 { await Task.yield() }
        waiter.cancel()
        #expect(await waiter.value == false)
        gate.release()
        // The one turn is free again.
        #expect(await gate.acquire())
        gate.release()
    }
}
