import Logging
@testable import SluiceAgent
import SluiceProcess
import Synchronization
import Testing

@Suite("The agent hands back start-up's pages once, then after each inventory read and apply")
struct PageTrimmerTests {
    final class Calls: Sendable {
        let count = Mutex(0)
    }

    static func trimmer(_ calls: Calls) -> PageTrimmer {
        PageTrimmer(logger: Logger(label: "test")) {
            calls.count.withLock { $0 += 1 }
            return StartupPages.Released(ranges: 1, bytes: 4096)
        }
    }

    @Test func startUpIsOverWhenTheFirstHeartbeatAndInventoryCheckAreDone() async {
        let calls = Calls()
        let trimmer = Self.trimmer(calls)
        await trimmer.completed(.heartbeat)
        await trimmer.completed(.heartbeat)
        #expect(calls.count.withLock { $0 } == 0, "the inventory has not been checked yet")
        await trimmer.completed(.inventory)
        #expect(calls.count.withLock { $0 } == 1)
        // Later heartbeats do not trim again; each later inventory read does.
        for _ in 0..<5 { await trimmer.completed(.heartbeat) }
        #expect(calls.count.withLock { $0 } == 1)
        for _ in 0..<3 {
            await trimmer.completed(.heartbeat)
            await trimmer.completed(.inventory)
        }
        #expect(calls.count.withLock { $0 } == 4)
    }

    @Test func everyFinishedApplyTrims() async {
        let calls = Calls()
        let trimmer = Self.trimmer(calls)
        await trimmer.applied()
        await trimmer.completed(.inventory)
        await trimmer.completed(.heartbeat)
        await trimmer.applied()
        #expect(calls.count.withLock { $0 } == 3)
        #expect(await trimmer.trims == 3)
    }
}
