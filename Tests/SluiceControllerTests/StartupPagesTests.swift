import Foundation
import Glibc
import SluiceProcess
import Testing

@Suite("Handing back the pages only start-up touched")
struct StartupPagesTests {
    static let sample = """
        55683bf8f000-55683bf91000 r--p 00000000 fe:00 253911                     /usr/lib/x86_64-linux-gnu/libfoo.so.6
        Rss:                   8 kB
        Anonymous:             0 kB
        VmFlags: rd mr mw me
        55683bf91000-55683bf96000 r-xp 00002000 fe:00 253911                     /usr/lib/x86_64-linux-gnu/libfoo.so.6
        Rss:                  20 kB
        Anonymous:             0 kB
        55683bf96000-55683bf98000 r--p 00007000 fe:00 253911                     /usr/lib/x86_64-linux-gnu/libfoo.so.6
        Rss:                   8 kB
        Anonymous:             8 kB
        55683bf98000-55683bf99000 rw-p 00009000 fe:00 253911                     /usr/lib/x86_64-linux-gnu/libfoo.so.6
        Rss:                   4 kB
        Anonymous:             4 kB
        55683c000000-55683c021000 rw-p 00000000 00:00 0                          [heap]
        Rss:                 132 kB
        Anonymous:           132 kB
        7f0000000000-7f0000100000 r--p 00000000 fe:00 4242                       /var/lib/sluice/some data file
        Rss:                  64 kB
        Anonymous:             0 kB
        7f0000200000-7f0000201000 r-xp 00000000 fe:00 4243                       /usr/lib/libbar.so
        Rss:                   0 kB
        Anonymous:             0 kB
        7ffc00000000-7ffc00002000 r-xp 00000000 00:00 0                          [vdso]
        Rss:                   8 kB
        Anonymous:             0 kB
        """

    @Test func smapsIsReadIntoMappingsWithTheirSizesAndPathsWithSpaces() {
        let mappings = StartupPages.parse(smaps: Self.sample)
        #expect(mappings.count == 8)
        #expect(mappings[1] == .init(start: 0x5568_3bf9_1000, end: 0x5568_3bf9_6000, permissions: "r-xp", inode: 253911,
            path: "/usr/lib/x86_64-linux-gnu/libfoo.so.6", rssKiB: 20, anonymousKiB: 0))
        #expect(mappings[4].path == "[heap]" && mappings[4].anonymousKiB == 132)
        #expect(mappings[5].path == "/var/lib/sluice/some data file")
    }

    @Test func onlyCleanReadOnlyPagesOfLoadedObjectsAreDropped() {
        let droppable = StartupPages.parse(smaps: Self.sample).map(\.isDroppable)
        // The library's headers and code: yes. Its relocated read-only data (copies of its own), its
        // writable data, the heap, a data file that may be unmapped, nothing resident, the vDSO: no.
        #expect(droppable == [true, true, false, false, false, false, false, false])
    }

    static func residentBytes() -> Int {
        let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    @Test func thisProcessShrinksAndGoesOnWorking() throws {
        // Work that runs code from many libraries, before and after.
        func work() throws -> String {
            let data = try JSONEncoder().encode(["dates": (0..<200).map { Date(timeIntervalSince1970: Double($0) * 86_400).description }])
            let decoded = try JSONDecoder().decode([String: [String]].self, from: data)
            return decoded["dates"]!.joined().uppercased() + String(format: "%.3f", 2.0 / 3.0)
        }
        let before = try work()
        let rssBefore = Self.residentBytes()
        let released = StartupPages.release()
        let rssAfter = Self.residentBytes()
        #expect(released.mappings > 0)
        #expect(released.bytes > 1 << 20, "the test runner has megabytes of its code resident")
        #expect(rssAfter < rssBefore - Int(released.bytes / 4), "RSS \(rssBefore) -> \(rssAfter), released \(released.bytes)")
        // The pages come back from the page cache when used: same results.
        #expect(try work() == before)
        #expect(StartupPages.release().mappings > 0)
        #expect(try work() == before)
    }
}
