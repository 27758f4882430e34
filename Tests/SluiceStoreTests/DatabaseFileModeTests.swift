import SluiceTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import SluiceStore

/// Regression (security probe): a database made by running sluiced by hand, under the usual
/// umask 022, was readable by every user of the host, and so were its log and shared memory.
@Suite("The database file's mode")
struct DatabaseFileModeTests {
    @Test func aNewDatabaseAndItsWALAndSHMFilesAreMode0600UnderAUmaskThatLetsOthersRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("sluice.sqlite")
        // The umask a shell usually has; put back whatever the test process had.
        let previous = umask(0o022)
        let database: SluiceDatabase
        do {
            defer { umask(previous) }
            database = try SluiceDatabase.open(path: path, nowMs: 1)
            // A write, so that the log holds something and every file SQLite keeps exists.
            _ = try database.createEnrollmentToken(name: "t", uses: 1, expiresAtMs: 1_000_000, labels: nil, actor: .local("root"), nowMs: 2)
        }
        for file in [path, path + "-wal", path + "-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            let mode = try #require(attributes[.posixPermissions] as? Int, "\(file) has no mode")
            #expect(mode == 0o600, "\(file) is mode \(String(mode, radix: 8)), expected 600")
        }
        _ = database
    }

    @Test func anExistingDatabaseKeepsTheModeItsOwnerGaveIt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("sluice.sqlite")
        _ = try SluiceDatabase.open(path: path, nowMs: 1)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        _ = try SluiceDatabase.open(path: path, nowMs: 2)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o640, "opening an existing file changed its mode to \(String(mode, radix: 8))")
    }
}
