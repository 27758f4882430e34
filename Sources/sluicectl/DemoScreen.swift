import Foundation
import SluiceCore
import SluiceSimulator
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the demo's narration goes. Plain: each line to stdout as it comes (a pipe, a file,
/// `--plain`), as a log that reads well afterwards. Live: the lines feed the board's log tail
/// and the board (`DemoBoard`) is redrawn in place every 200 ms from the latest state the
/// run handed over, with ANSI cursor movement only (no curses: nothing to install).
final class DemoScreen: Sendable {
    /// What the board needs besides what changes: fixed when the board starts.
    struct Context: Sendable {
        var title: String
        var fleet: [DemoBoard.Member]
        var started: Date
        var staleAfterMs: Int64
    }

    private struct State {
        var context: Context?
        var log: [String] = []
        var rollout: RolloutDetail?
        var phase: String?
        var lastReportAgeMs: [String: Int64] = [:]
        var previousLineCount = 0
        var live: Bool { context != nil }

        var snapshot: DemoBoard.Snapshot? {
            guard let context else { return nil }
            let now = Date()
            return DemoBoard.Snapshot(
                title: context.title, elapsedSeconds: now.timeIntervalSince(context.started),
                nowMs: Int64((now.timeIntervalSince1970 * 1000).rounded()), phase: phase, rollout: rollout, fleet: context.fleet,
                lastReportAgeMs: lastReportAgeMs, staleAfterMs: context.staleAfterMs, log: log)
        }
    }

    /// Drawn every this often: a few frames a second is smooth enough and costs nothing.
    static let frameInterval: Duration = .milliseconds(200)
    /// Below this the board would be mostly cut off: the plain log reads better.
    static let minimumColumns = 60, minimumRows = 16

    /// Whether `startBoard()` draws the board (decided once, when the demo starts).
    let wantsBoard: Bool
    private let state = Mutex(State())
    private let ticker = Mutex<Task<Void, Never>?>(nil)

    init(plain: Bool) {
        let size = Self.terminalSize()
        let terminal = isatty(STDOUT_FILENO) == 1
        wantsBoard =
            DemoBoard.isWanted(stdoutIsTerminal: terminal, environment: ProcessInfo.processInfo.environment, plain: plain)
            && (size.map { $0.columns >= Self.minimumColumns && $0.rows >= Self.minimumRows } ?? true)
    }

    var isLive: Bool { state.withLock { $0.live } }

    /// A line (or several) of narration: printed now, or kept for the board's log tail.
    func say(_ text: String) {
        let printNow = state.withLock { s -> Bool in
            guard s.live else { return true }
            s.log += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if s.log.count > 200 { s.log.removeFirst(s.log.count - 200) }
            return false
        }
        if printNow { Self.write(text + "\n") }
    }

    func show(_ rollout: RolloutDetail) { state.withLock { $0.rollout = rollout } }
    func show(phase: String?) { state.withLock { $0.phase = phase } }
    func show(lastReportAgeMs: [String: Int64]) { state.withLock { $0.lastReportAgeMs = lastReportAgeMs } }

    /// From now on, redraws the board every 200 ms until `finish()`; does nothing when the board is not wanted.
    func startBoard(_ context: Context) {
        guard wantsBoard else { return }
        state.withLock { $0.context = context }
        Self.write("\u{1B}[?25l")  // hide the cursor: it would flicker over the board
        let task = Task { [self] in
            while !Task.isCancelled {
                draw()
                try? await Task.sleep(for: Self.frameInterval)
            }
        }
        ticker.withLock { $0 = task }
    }

    /// Draws the last frame and goes back to plain printing below it (the comparison and the
    /// postmortem are read after the run, not watched). Safe to call more than once.
    func finish() {
        ticker.withLock { $0?.cancel() }
        draw()
        let wasLive = state.withLock { s -> Bool in
            defer { s.context = nil }
            return s.live
        }
        if wasLive { Self.write("\u{1B}[?25h") }
    }

    /// For the signal handler: the cursor back, whatever state the board was in.
    func restoreTerminal() {
        if isLive { Self.write("\u{1B}[?25h\n") }
    }

    /// One frame, replacing the previous one; under the lock, so that two frames never interleave.
    private func draw() {
        state.withLock { s in
            guard let snapshot = s.snapshot else { return }
            let size = Self.terminalSize()
            // One column short of the edge (a full last column wraps on some terminals) and one
            // row short of the screen (the cursor's line), or cursor-up could not reach the top.
            let width = min(DemoBoard.maxWidth, (size?.columns ?? DemoBoard.maxWidth + 1) - 1)
            let height = min(DemoBoard.maxHeight, (size?.rows ?? DemoBoard.maxHeight + 1) - 1)
            let lines = DemoBoard.render(snapshot, width: width, height: height)
            Self.write(DemoBoard.redraw(previousLineCount: s.previousLineCount, lines: lines))
            s.previousLineCount = lines.count
        }
    }

    /// The terminal's size, when stdout is one that says.
    static func terminalSize() -> (columns: Int, rows: Int)? {
        var size = winsize()
        #if canImport(Glibc)
        let result = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size)
        #else
        let result = ioctl(STDOUT_FILENO, TIOCGWINSZ, &size)
        #endif
        guard result == 0, size.ws_col > 0, size.ws_row > 0 else { return nil }
        return (Int(size.ws_col), Int(size.ws_row))
    }

    /// Writes to stdout, ignoring a closed pipe (`sluicectl demo | head`): the demo still runs
    /// to its end and cleans up, instead of trapping and leaving sluiced behind.
    static func write(_ text: String) {
        try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
    }
}
