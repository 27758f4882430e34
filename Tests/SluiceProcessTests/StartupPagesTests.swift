import Foundation
import Glibc
import SluiceProcess
import Testing

@Suite("Handing back the pages only start-up touched")
struct StartupPagesTests {
    /// A mapping of /proc/self/smaps with what the test checks.
    struct Mapping {
        var range: Range<UInt>
        var permissions: String
        var inode: UInt64
        var path: String
        var fields: [String: UInt64] = [:]
    }

    static func mappings() throws -> [Mapping] {
        var mappings: [Mapping] = []
        // Read to the end: /proc files report a size of 0, and a sized read stops short.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        defer { try? handle.close() }
        let text = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            if let key = parts.first, key.hasSuffix(":") {
                if parts.count >= 2, let value = UInt64(parts[1]) { mappings[mappings.count - 1].fields[String(key.dropLast())] = value }
                continue
            }
            let bounds = parts[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            try #require(bounds.count == 2 && parts.count >= 5, "unreadable smaps header: \(line)")
            mappings.append(
                Mapping(
                    range: bounds[0]..<bounds[1], permissions: String(parts[1]), inode: UInt64(parts[4]) ?? 0,
                    path: parts.count > 5 ? String(parts[5].drop(while: { $0 == " " })) : ""))
        }
        return mappings
    }

    @Test func onlyPagesNeverWrittenOfLoadedObjectsAreChosen() throws {
        let ranges = StartupPages.cleanRanges()
        let mappings = try Self.mappings()
        #expect(ranges.count >= 4, "the program and its libraries: \(ranges.count)")
        for range in ranges {
            #expect(range.lowerBound % 4096 == 0 && range.upperBound % 4096 == 0)
            let covering = mappings.filter { $0.range.overlaps(range) }
            #expect(!covering.isEmpty, "\(range) is in no mapping")
            for mapping in covering {
                // File-backed, never writable, not one copied page: no relocated data, no heap,
                // no stack, no vDSO.
                #expect(mapping.range.lowerBound <= range.lowerBound && range.upperBound <= mapping.range.upperBound, "\(range) spans mappings")
                #expect(!mapping.permissions.contains("w") && mapping.inode != 0 && mapping.path.hasPrefix("/"), "\(mapping.permissions) \(mapping.path)")
                #expect(mapping.fields["Anonymous"] == 0 && mapping.fields["Swap"] == 0, "\(mapping.path) has pages of its own")
            }
        }
        // The relocated read-only data (RELRO, written by the loader, then made read-only) is
        // never chosen: every read-only mapping with pages of its own is left out.
        let relocated = mappings.filter { !$0.permissions.contains("w") && ($0.fields["Anonymous"] ?? 0) > 0 && $0.inode != 0 }
        #expect(!relocated.isEmpty, "expected relocated read-only data in a Swift process")
        for mapping in relocated { #expect(!ranges.contains { $0.overlaps(mapping.range) }, "\(mapping.path) relocated data chosen") }
        // The program's own code is among the ranges.
        let program = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let code = try #require(mappings.first { $0.path == program && $0.permissions == "r-xp" })
        #expect(ranges.contains { $0.overlaps(code.range) })
    }

    @Test func thisProcessShrinksAndGoesOnWorking() throws {
        // Work that runs code from many libraries, before and after.
        func work() throws -> String {
            let data = try JSONEncoder().encode(["dates": (0..<200).map { Date(timeIntervalSince1970: Double($0) * 86_400).description }])
            let decoded = try JSONDecoder().decode([String: [String]].self, from: data)
            return decoded["dates"]!.joined().uppercased() + String(format: "%.3f", 2.0 / 3.0)
        }
        let before = try work()
        let released = StartupPages.release()
        #expect(released.ranges > 0 && released.bytes > 1 << 20)
        #expect(released.residentBefore > 0 && released.residentAfter > 0)
        #expect(released.residentAfter + (1 << 20) < released.residentBefore, "RSS \(released.residentBefore) -> \(released.residentAfter)")
        // The pages come back from the page cache when used: same results.
        #expect(try work() == before)
        #expect(StartupPages.release().ranges > 0)
        #expect(try work() == before)
    }
}
