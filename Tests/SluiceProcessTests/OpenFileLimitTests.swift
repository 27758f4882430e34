import Glibc
import SluiceProcess
import Testing

@Suite("The open-files limit of a long-running process")
struct OpenFileLimitTests {
    static func limits() -> (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        _ = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    @Test func theSoftLimitIsRaisedToTheHardOneAndReported() throws {
        let change = try #require(OpenFileLimit.raiseToHardLimit())
        let now = Self.limits()
        #expect(change.after == now.soft)
        #expect(now.soft == now.hard)
        #expect(!change.failed)
        #expect(change.before <= change.after)
        // Once raised, nothing is left to raise.
        #expect(OpenFileLimit.raiseToHardLimit() == .init(before: now.soft, after: now.soft, failed: false))
    }
}
