import SluiceTestSupport
import Foundation
import GRDB
import Testing

@testable import SluiceStore

@Suite("Write-ahead log checkpoints beside the writer")
struct BackgroundCheckpointsTests {
    @Test func theLogIsCopiedInTheBackgroundAndTheWriterOnlyBacksItUp() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try SluiceDatabase.open(path: directory.file("sluice.sqlite"), nowMs: 1)
        #expect(try database.walAutocheckpointPages() == 1000, "SQLite's default before")
        let checkpoints = try database.startBackgroundCheckpoints(every: .milliseconds(20))
        defer { checkpoints.stop() }
        #expect(try database.walAutocheckpointPages() == 16384)
        for n in 0..<50 {
            _ = try database.createEnrollmentToken(name: "t\(n)", uses: 1, expiresAtMs: 1_000_000, labels: nil, actor: .local("root"), nowMs: 2)
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while checkpoints.framesCopied == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(checkpoints.framesCopied > 0)
        #expect(checkpoints.runs > 0)
    }

    @Test func anInMemoryDatabaseHasNothingToCheckpoint() throws {
        let checkpoints = try SluiceDatabase.inMemory().startBackgroundCheckpoints()
        #expect(checkpoints.runs == 0)
    }
}
