import CSluiceProcess

#if canImport(Glibc)
import Glibc
#endif

/// Hands back the memory a long-running process touched only while it started.
///
/// A process's resident set counts every page of its program and libraries it has touched
/// since it started: the agent's argument parsing, YAML config, enrollment, TLS set-up and
/// first inventory read leave about 15 MiB of code pages mapped that the idle loop never
/// uses again. They cost the host nothing the kernel cannot take back, but they are what `ps`
/// and `top` show, and what an operator budgets. `release()` unmaps them from this process
/// (`madvise(MADV_DONTNEED)`): they stay in the page cache, and a page used again is mapped
/// back by a minor fault. It also returns the heap's free pages (`malloc_trim`).
///
/// Only pages that are never written are touched, taken from the dynamic linker's own list of
/// loaded objects (`dl_iterate_phdr`, which holds its lock meanwhile, so nothing is unloaded
/// under it): loadable segments without write permission, outside the relocated read-only
/// part (`PT_GNU_RELRO`), of objects without text relocations; never the vDSO. Their pages
/// always equal the file's, in memory or not, so dropping them loses nothing (a written page
/// swapped out is not in such a segment).
public enum StartupPages {
    /// What one `release()` did.
    public struct Released: Sendable, Equatable {
        /// Page ranges advised.
        public var ranges: Int
        /// Their size (mapped, resident or not).
        public var bytes: UInt64
        /// This process's resident set before and after (`/proc/self/statm`; 0 if unreadable).
        public var residentBefore: UInt64
        public var residentAfter: UInt64

        public init(ranges: Int, bytes: UInt64, residentBefore: UInt64 = 0, residentAfter: UInt64 = 0) {
            self.ranges = ranges
            self.bytes = bytes
            self.residentBefore = residentBefore
            self.residentAfter = residentAfter
        }
    }

    /// Drops this process's pages of its program and libraries that are never written, and
    /// trims the heap.
    @discardableResult
    public static func release() -> Released {
        let before = residentBytes()
        var ranges = 0, bytes = 0
        sluice_release_clean_segments(&ranges, &bytes)
        return Released(ranges: ranges, bytes: UInt64(bytes), residentBefore: before, residentAfter: residentBytes())
    }

    /// The resident set from `/proc/self/statm` (its second field, in pages).
    public static func residentBytes() -> UInt64 {
        let descriptor = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        let fields = buffer.prefix(count).split(separator: 0x20)
        guard fields.count > 1, let pages = UInt64(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The ranges `release()` would advise, without advising them (for tests).
    public static func cleanRanges() -> [Range<UInt>] {
        var capacity = 256
        while true {
            var buffer = [sluice_range](repeating: sluice_range(), count: capacity)
            let count = sluice_clean_segments(&buffer, capacity)
            if count <= capacity { return buffer.prefix(count).map { UInt($0.start)..<UInt($0.end) } }
            capacity = count + 16
        }
    }
}
