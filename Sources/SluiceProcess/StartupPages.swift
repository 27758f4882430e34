#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hands back the memory a long-running process touched only while it started.
///
/// A process's resident set counts every page of its program and libraries it has touched
/// since it started: the agent's argument parsing, YAML config, enrollment, TLS set-up and
/// first inventory read leave about 20 MiB of clean code pages mapped that the idle loop never
/// uses again. They cost the host nothing the kernel cannot take back, but they are what `ps`
/// and `top` show, and what an operator budgets. `release()` unmaps them from this process
/// (`madvise(MADV_DONTNEED)`): they stay in the page cache, and a page used again is mapped
/// back by a minor fault. It also returns the heap's free pages (`malloc_trim`).
///
/// Only mappings of the program and its shared libraries that are read-only and hold no page
/// of their own (no copy-on-write page: `Anonymous: 0 kB` in smaps) are touched, so nothing
/// but clean file pages is ever dropped: a writable or relocated page is never discarded, and
/// those objects stay mapped for the life of the process (nothing here unloads a library).
public enum StartupPages {
    /// What one `release()` did.
    public struct Released: Sendable, Equatable {
        /// Mappings advised.
        public var mappings: Int
        /// Their resident bytes before (from smaps).
        public var bytes: UInt64

        public init(mappings: Int, bytes: UInt64) {
            self.mappings = mappings
            self.bytes = bytes
        }
    }

    /// One mapping as /proc/PID/smaps lists it.
    public struct Mapping: Sendable, Equatable {
        public var start: UInt
        public var end: UInt
        public var permissions: String
        public var inode: UInt64
        public var path: String
        public var rssKiB: UInt64 = 0
        public var anonymousKiB: UInt64 = 0

        public init(start: UInt, end: UInt, permissions: String, inode: UInt64, path: String, rssKiB: UInt64 = 0, anonymousKiB: UInt64 = 0) {
            self.start = start
            self.end = end
            self.permissions = permissions
            self.inode = inode
            self.path = path
            self.rssKiB = rssKiB
            self.anonymousKiB = anonymousKiB
        }

        /// Clean pages of a loaded ELF object, safe to drop: readable, not writable, file-backed,
        /// no private copy of any page.
        public var isDroppable: Bool {
            let flags = Array(permissions)
            guard flags.count == 4, flags[0] == "r", flags[1] != "w", inode != 0, anonymousKiB == 0, rssKiB > 0 else { return false }
            return path.hasPrefix("/") && (path.hasSuffix(".so") || path.contains(".so.") || path == Self.executablePath)
        }

        /// The running program (its mappings carry its path).
        static let executablePath: String = {
            var buffer = [CChar](repeating: 0, count: 4096)
            let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
            guard count > 0 else { return "" }
            return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }()
    }

    /// Drops this process's clean pages of its program and libraries, and trims the heap.
    @discardableResult
    public static func release() -> Released {
        var released = Released(mappings: 0, bytes: 0)
        #if os(Linux)
        guard let text = readFile("/proc/self/smaps") else { return released }
        for mapping in parse(smaps: text) where mapping.isDroppable {
            guard let address = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            if madvise(address, Int(mapping.end - mapping.start), MADV_DONTNEED) == 0 {
                released.mappings += 1
                released.bytes += mapping.rssKiB * 1024
            }
        }
        _ = mallocTrim?(0)
        #endif
        return released
    }

    #if os(Linux)
    /// glibc's `malloc_trim` (not in the Glibc module's headers): returns the heap's free pages.
    static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()
    #endif

    /// The mappings of an smaps text, with their Rss and Anonymous sizes.
    public static func parse(smaps text: String) -> [Mapping] {
        var mappings: [Mapping] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.hasSuffix(":") {
                // "Rss:   120 kB" and the like, for the mapping above.
                guard !mappings.isEmpty, fields.count >= 2, let kib = UInt64(fields[1]) else { continue }
                switch first {
                case "Rss:": mappings[mappings.count - 1].rssKiB = kib
                case "Anonymous:": mappings[mappings.count - 1].anonymousKiB = kib
                default: break
                }
                continue
            }
            // "7f1c2a000000-7f1c2a021000 r-xp 00000000 08:01 1234    /usr/lib/libfoo.so"; the path
            // may hold spaces: it is the rest of the line after the fifth field.
            let parts = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            let range = first.split(separator: "-")
            guard parts.count >= 5, range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
                let inode = UInt64(parts[4])
            else { continue }
            let path = parts.count > 5 ? String(parts[5].drop(while: { $0 == " " })) : ""
            mappings.append(Mapping(start: start, end: end, permissions: String(parts[1]), inode: inode, path: path))
        }
        return mappings
    }

    /// The whole of a /proc file (its size is not known ahead).
    static func readFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk.prefix(count))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
