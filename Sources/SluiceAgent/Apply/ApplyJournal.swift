import CoreFoundation
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SluiceCore

/// The agent's crash journal: JSON lines in `apply-journal.jsonl` in the state directory, one
/// per step, each written and fsync'ed *before* the step runs.
///
/// One file holds one apply. ``begin(_:)`` replaces the previous apply's file atomically
/// (keeping it as `apply-journal.prev.jsonl` for postmortems) once that apply has finished.
/// A torn last line (a crash in the middle of a write) is ignored when reading.
public struct ApplyJournal: Sendable {
    /// The state directory.
    public let directory: String
    /// Called after each entry is durable; tests use it to kill the agent at every step.
    let observer: (@Sendable (ApplyJournalEntry) -> Void)?

    /// - Parameters:
    ///   - directory: the agent's state directory.
    ///   - observer: called after each entry is on disk (fault-injection tests only).
    public init(directory: String, observer: (@Sendable (ApplyJournalEntry) -> Void)? = nil) {
        self.directory = directory
        self.observer = observer
    }

    /// The journal file.
    public var path: String { directory + "/apply-journal.jsonl" }

    /// Starts a new apply's journal with its first entry, replacing the finished previous one.
    /// - Throws: ``InvalidInput`` when the file cannot be written durably.
    public func begin(_ entry: ApplyJournalEntry) throws(InvalidInput) {
        try makeDirectory(directory)
        let temporary = path + ".new"
        try write(line(entry), to: temporary, flags: O_CREAT | O_TRUNC)
        if exists(path) { _ = rename(path, directory + "/apply-journal.prev.jsonl") }
        guard rename(temporary, path) == 0 else { throw InvalidInput("cannot rename \(temporary): \(errnoText())") }
        syncDirectory(directory)
        observer?(entry)
    }

    /// Appends one entry and waits until it is on disk.
    /// - Throws: ``InvalidInput`` when it cannot be written durably.
    public func append(_ entry: ApplyJournalEntry) throws(InvalidInput) {
        try write(line(entry), to: path, flags: O_CREAT | O_APPEND)
        observer?(entry)
    }

    /// Every readable entry of the current apply, in order.
    public func entries() -> [ApplyJournalEntry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(ApplyJournalEntry.self, from: Data($0)) }
    }

    /// The entries of an apply that did not finish, or `nil` when none is pending.
    public func pending() -> [ApplyJournalEntry]? {
        let all = entries()
        guard let last = all.last, last.phase != .finished else { return nil }
        return all
    }

    private func line(_ entry: ApplyJournalEntry) throws(InvalidInput) -> [UInt8] {
        do { return Array(try JSONEncoder().encode(entry)) + [UInt8(ascii: "\n")] } catch {
            throw InvalidInput("cannot encode journal entry: \(error)")
        }
    }

    private func write(_ line: [UInt8], to file: String, flags: Int32) throws(InvalidInput) {
        let descriptor = open(file, flags | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw InvalidInput("cannot open \(file): \(errnoText())") }
        defer { close(descriptor) }
        // After a crash in the middle of a write the file ends without a newline: start a new
        // line, so the torn one stays unreadable on its own and this one is kept.
        var bytes = line
        var info = stat()
        var last: UInt8 = 0
        if fstat(descriptor, &info) == 0, info.st_size > 0, pread(descriptor, &last, 1, info.st_size - 1) == 1, last != UInt8(ascii: "\n") {
            bytes.insert(UInt8(ascii: "\n"), at: 0)
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw InvalidInput("cannot write \(file): \(errnoText())") }
            offset += written
        }
        guard fsync(descriptor) == 0 else { throw InvalidInput("cannot fsync \(file): \(errnoText())") }
    }
}

/// fsyncs a directory so a rename or creation in it survives a power loss.
func syncDirectory(_ path: String) {
    let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard descriptor >= 0 else { return }
    _ = fsync(descriptor)
    close(descriptor)
}

/// Writes `text` to `path` through a temporary file, fsync and rename, with `mode`.
func writeFileAtomically(_ text: String, to path: String, mode: mode_t) throws(InvalidInput) {
    let temporary = path + ".sluice-new"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
    guard descriptor >= 0 else { throw InvalidInput("cannot create \(temporary): \(errnoText())") }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
    let synced = fsync(descriptor) == 0
    fchmod(descriptor, mode)
    close(descriptor)
    guard written == bytes.count, synced, rename(temporary, path) == 0 else {
        unlink(temporary)
        throw InvalidInput("cannot write \(path): \(errnoText())")
    }
    let parent = path.split(separator: "/").dropLast().joined(separator: "/")
    syncDirectory("/" + parent)
}
