#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SluiceCore

/// Takes unattended-upgrades' place on a host, and gives it back exactly as it was.
///
/// Taking over writes Sluice's own apt.conf.d file (``overridePath``, setting
/// `APT::Periodic::Unattended-Upgrade "0"`, which apt reads after `20auto-upgrades`) and disables
/// and stops `apt-daily-upgrade.timer` if it was enabled and active; the admin's and
/// unattended-upgrades' own files are never edited. What was there before is recorded
/// (``HandoverRecord``, `unattended-upgrades.json` in the state directory) before anything
/// changes. A take-over that fails halfway is undone, so a host is never left with neither
/// Sluice nor unattended-upgrades. Taking over again keeps the first record. Handing back
/// undoes exactly what the record says, then removes it.
///
/// Commands run through ``HostRoot`` (argv, never a shell); tests give it a temporary root and
/// an injected runner.
public struct UnattendedUpgradesHandover: Sendable {
    public static let recordFileName = "unattended-upgrades.json"
    public static let handbackNoteFileName = "unattended-upgrades-handed-back.json"
    /// Sluice's own file; apt reads apt.conf.d in name order, so it comes after `20auto-upgrades`
    /// and `50unattended-upgrades`.
    public static let overridePath = "/etc/apt/apt.conf.d/51sluice-unattended-upgrades"
    public static let overrideText = """
        // Written by sluice-agent: Sluice's controller decides when this host's packages are
        // upgraded, so unattended-upgrades does not. `sluice-agent handback` removes this file
        // and restores apt-daily-upgrade.timer as it was (see /var/lib/sluice-agent/unattended-upgrades.json).
        APT::Periodic::Unattended-Upgrade "0";

        """
    public static let timerUnit = "apt-daily-upgrade.timer"
    /// unattended-upgrades' program: the package is installed when it is there.
    public static let program = "/usr/bin/unattended-upgrade"

    let root: HostRoot
    let stateDirectory: String
    let logger: Logger
    let systemctl: String

    /// - Parameters:
    ///   - root: the host (`/`), or a test's root directory.
    ///   - stateDirectory: the agent's state directory (a path seen from this process).
    ///   - logger: each change is logged at notice level.
    ///   - systemctl: the program run for the timer.
    public init(root: HostRoot, stateDirectory: String, logger: Logger, systemctl: String = "systemctl") {
        self.root = root
        self.stateDirectory = stateDirectory
        self.logger = logger
        self.systemctl = systemctl
    }

    var recordPath: String { stateDirectory + "/" + Self.recordFileName }
    var notePath: String { stateDirectory + "/" + Self.handbackNoteFileName }

    /// The record of the current take-over, or `nil` when the host is not taken over.
    public func record() throws(HandoverFailure) -> HandoverRecord? { try read(HandoverRecord.self, from: recordPath) }

    /// An orphaned host's hand-back, kept until the controller has been told of it.
    public func pendingHandback() throws(HandoverFailure) -> HandbackNote? { try read(HandbackNote.self, from: notePath) }

    /// Forgets the orphaned hand-back once the controller has been told of it.
    public func forgetHandback() { unlink(notePath) }

    /// Takes over from unattended-upgrades, or makes sure an earlier take-over still holds.
    /// - Parameter now: when, for the record.
    /// - Returns: the record: the first take-over's when there was one.
    /// - Throws: ``HandoverFailure`` naming what failed and what was undone.
    @discardableResult
    public func takeOver(now: Date) async throws(HandoverFailure) -> HandoverRecord {
        let now = Self.wholeSecond(now)
        let installed = FileManager.default.fileExists(atPath: root.file(Self.program))
        if let existing = try record() {
            if existing.state == .takenOver {
                try await apply(existing, undoing: false)
                return existing
            }
            if !installed { return existing }
            // Installed since the record said there was nothing: take over now.
        }
        guard installed else {
            let record = HandoverRecord(state: .nothingToTakeOver, takenOverAt: now, overrideFile: nil, timer: nil)
            try write(record, to: recordPath)
            logger.notice("\(record.summary)")
            return record
        }
        var record = HandoverRecord(state: .takenOver, takenOverAt: now, overrideFile: Self.overridePath, timer: nil)
        if let before = await timerState() {
            record.timer = .init(
                unit: Self.timerUnit, unitFileStateBefore: before.unitFileState, activeBefore: before.active,
                disabled: before.unitFileState == "enabled", stopped: before.active == true)
        }
        // The record first: a crash halfway leaves what is needed to hand back.
        try write(record, to: recordPath)
        try await apply(record, undoing: true)
        logger.notice("took over from unattended-upgrades: \(record.summary)")
        return record
    }

    /// Makes the host as the record says Sluice left it; on failure, when `undoing`, restores
    /// the state before and removes the record.
    private func apply(_ record: HandoverRecord, undoing: Bool) async throws(HandoverFailure) {
        do {
            try writeOverride()
            if let timer = record.timer {
                if timer.disabled { try await run(["disable", timer.unit]) }
                if timer.stopped { try await run(["stop", timer.unit]) }
            }
        } catch {
            guard undoing else { throw HandoverFailure("cannot keep unattended-upgrades off: \(error.message)") }
            do {
                try await restore(record)
                unlink(recordPath)
            } catch let undo {
                throw HandoverFailure(
                    "cannot take over from unattended-upgrades: \(error.message); undoing failed too: \(undo.message) (\(recordPath) says what to restore)")
            }
            throw HandoverFailure("cannot take over from unattended-upgrades: \(error.message); undone, unattended-upgrades runs as before")
        }
    }

    /// Hands the host back to unattended-upgrades as the record says it was, logs it, and
    /// removes the record. An orphaned host's hand-back is kept as a ``HandbackNote``: the
    /// agent takes over again when the controller answers, and reports both.
    /// - Parameters:
    ///   - reason: why.
    ///   - now: when.
    /// - Returns: the record handed back, or `nil` when the host was not taken over.
    /// - Throws: ``HandoverFailure`` naming the step that failed; the record is kept, so it can be run again.
    @discardableResult
    public func handBack(reason: HandbackReason, now: Date) async throws(HandoverFailure) -> HandoverRecord? {
        let now = Self.wholeSecond(now)
        guard let record = try record() else { return nil }
        if record.state == .takenOver { try await restore(record) }
        unlink(recordPath)
        syncDirectory(stateDirectory)
        let detail = "\(Self.why(reason)); \(record.state == .takenOver ? "restored: \(restoredSummary(record))" : record.summary)"
        logger.notice("handed this host back to unattended-upgrades: \(detail)")
        if reason == .orphaned {
            try write(HandbackNote(handedBackAt: now, reason: reason, detail: detail), to: notePath)
        }
        return record
    }

    /// Records keep whole seconds (ISO 8601 in the file), so what is returned equals what is read back.
    static func wholeSecond(_ date: Date) -> Date { Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)) }

    static func why(_ reason: HandbackReason) -> String {
        switch reason {
        case .command: "sluice-agent handback"
        case .revoked: "the controller revoked this host"
        case .orphaned: "the controller was unreachable for longer than orphan_after"
        }
    }

    private func restoredSummary(_ record: HandoverRecord) -> String {
        var parts = ["\(record.overrideFile ?? Self.overridePath) removed"]
        if let timer = record.timer, timer.disabled || timer.stopped {
            parts.append("\(timer.unit) \([timer.disabled ? "enabled" : nil, timer.stopped ? "started" : nil].compactMap { $0 }.joined(separator: " and "))")
        }
        return parts.joined(separator: ", ")
    }

    /// Undoes the take-over: the override removed, the timer enabled and started if Sluice disabled and stopped it.
    private func restore(_ record: HandoverRecord) async throws(HandoverFailure) {
        let path = root.file(record.overrideFile ?? Self.overridePath)
        if unlink(path) != 0 && errno != ENOENT { throw HandoverFailure("cannot remove \(path): \(errnoText())") }
        if let timer = record.timer {
            if timer.disabled { try await run(["enable", timer.unit]) }
            if timer.stopped { try await run(["start", timer.unit]) }
        }
    }

    private func writeOverride() throws(HandoverFailure) {
        let path = root.file(Self.overridePath)
        if (try? String(contentsOfFile: path, encoding: .utf8)) == Self.overrideText { return }
        do { try writeFileAtomically(Self.overrideText, to: path, mode: 0o644) } catch { throw HandoverFailure(error.message) }
    }

    /// The timer's unit file state and whether it runs, or `nil` when systemctl cannot tell (no systemctl).
    private func timerState() async -> (unitFileState: String, active: Bool?)? {
        let enabled = await root.outcome([systemctl, "is-enabled", Self.timerUnit], timeout: .seconds(30))
        guard case .state(let state) = HostFacts.timerState(from: enabled) else { return nil }
        let active = await root.outcome([systemctl, "is-active", Self.timerUnit], timeout: .seconds(30))
        let word = active.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let known = ["active", "inactive", "failed", "activating", "deactivating", "reloading"]
        return (state, known.contains(word) ? word == "active" : nil)
    }

    private func run(_ arguments: [String]) async throws(HandoverFailure) {
        let result = await root.outcome([systemctl] + arguments, timeout: .seconds(60))
        guard result.status == 0 else {
            throw HandoverFailure("`systemctl \(arguments.joined(separator: " "))` failed: \(CommandError.failed(systemctl, result).description)")
        }
    }

    private func read<T: Decodable>(_ type: T.Type, from path: String) throws(HandoverFailure) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw HandoverFailure("cannot read \(path)") }
            return nil
        }
        do { return try Self.decoder.decode(T.self, from: data) } catch {
            throw HandoverFailure("\(path) is not a record sluice-agent wrote: \(error)")
        }
    }

    private func write<T: Encodable>(_ value: T, to path: String) throws(HandoverFailure) {
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let text = String(decoding: try Self.encoder.encode(value), as: UTF8.self) + "\n"
            try writeFileAtomically(text, to: path, mode: 0o600)
        } catch let error as InvalidInput {
            throw HandoverFailure(error.message)
        } catch {
            throw HandoverFailure("cannot write \(path): \(error)")
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}

/// Why taking over or handing back failed, in one line.
public struct HandoverFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
