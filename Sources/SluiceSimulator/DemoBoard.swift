import Foundation
import SluiceCore

/// The live board of `sluicectl demo`: one snapshot of the run in, the lines of one frame out.
/// Pure, so that what it promises (a failed canary shows as failed in its group, 10,000 hosts
/// fit in 40 lines of 100 columns, a redraw moves up exactly one frame) is tested without a
/// terminal; `sluicectl` only decides when to draw and writes the bytes.
public enum DemoBoard {
    /// A frame never exceeds this, whatever the terminal: the board stays readable beside other windows.
    public static let maxWidth = 100
    public static let maxHeight = 40

    /// One host of the fleet and its redundancy group (`role@region`), whether the rollout
    /// selects it or not: hosts it leaves alone are counted on the board too.
    public struct Member: Sendable, Equatable {
        public var id: String
        public var group: String
        public init(id: String, group: String) {
            self.id = id
            self.group = group
        }
    }

    /// What the board shows at one instant, all of it read from the run: the controller's
    /// rollout detail, the simulated fleet, and how long ago the controller heard from hosts.
    public struct Snapshot: Sendable, Equatable {
        /// The first line: scenario, fleet size, update.
        public var title: String
        public var elapsedSeconds: Double
        /// The wall clock, for soak progress (`soakStartedAtMs` comes from the controller on the same machine).
        public var nowMs: Int64
        /// What the demo is doing before the rollout exists ("enrolling 1,200 of 10,000 hosts").
        public var phase: String?
        public var rollout: RolloutDetail?
        public var fleet: [Member]
        /// Milliseconds since the controller last heard from a host, for the hosts the demo asked about.
        public var lastReportAgeMs: [String: Int64]
        /// The controller's silence limit: a host quiet for longer blocks promotion.
        public var staleAfterMs: Int64
        /// The narration so far; the board shows its tail.
        public var log: [String]

        public init(
            title: String, elapsedSeconds: Double, nowMs: Int64, phase: String? = nil, rollout: RolloutDetail? = nil, fleet: [Member] = [],
            lastReportAgeMs: [String: Int64] = [:], staleAfterMs: Int64 = 10_000, log: [String] = []
        ) {
            self.title = title
            self.elapsedSeconds = elapsedSeconds
            self.nowMs = nowMs
            self.phase = phase
            self.rollout = rollout
            self.fleet = fleet
            self.lastReportAgeMs = lastReportAgeMs
            self.staleAfterMs = staleAfterMs
            self.log = log
        }
    }

    /// A host as the board names it: the assignment's state, told apart where the assignment
    /// alone does not say it (a success still soaking, a pending host held by a pause, silence).
    /// Cases are in order of urgency: the board lists and counts the worst first.
    public enum HostState: String, Sendable, CaseIterable, Comparable {
        case failed
        case rolledBack = "rolled back"
        case refused
        case silent
        case starting, applying, verifying, soaking
        case held, pending
        case succeeded, healthy, cancelled
        case untouched = "not in rollout"

        /// Worth a line of its own when the board is short of room.
        public var matters: Bool { self <= .soaking }

        public static func < (a: HostState, b: HostState) -> Bool {
            // allCases is declared in urgency order; both are always found.
            (allCases.firstIndex(of: a) ?? 0) < (allCases.firstIndex(of: b) ?? 0)
        }

        /// - Parameters:
        ///   - silentForMs: how long the host has been quiet beyond the controller's limit, when it has.
        public init(_ assignment: AssignmentState, wave: WaveState, rollout: RolloutState, silentForMs: Int64?) {
            if silentForMs != nil && (assignment.isInFlight || (assignment == .succeeded && wave == .soaking)) {
                self = .silent
                return
            }
            switch assignment {
            case .pending: self = rollout == .paused ? .held : .pending
            case .started: self = .starting
            case .applying: self = .applying
            case .verifying: self = .verifying
            case .succeeded: self = wave == .soaking ? .soaking : wave == .passed ? .healthy : .succeeded
            case .rolledBack: self = .rolledBack
            case .refused: self = .refused
            case .failed: self = .failed
            case .cancelled: self = .cancelled
            }
        }
    }

    /// One host on the board.
    struct HostRow {
        var id: String
        var state: HostState
        var detail: String?
    }

    /// One redundancy group: its hosts with an assignment, and how many it has without one.
    struct GroupRow {
        var key: String
        var hosts: [HostRow] = []
        var untouched = 0
        var involved: Bool { !hosts.isEmpty }
        var total: Int { hosts.count + untouched }
        var matters: Bool { hosts.contains { $0.state.matters } }
        var counts: [HostState: Int] {
            var counts = Dictionary(grouping: hosts, by: \.state).mapValues(\.count)
            if untouched > 0 { counts[.untouched] = untouched }
            return counts
        }
    }

    /// The frame for `snapshot`, at most `height` lines of at most `width` columns (both capped
    /// at 40 x 100).
    public static func render(_ snapshot: Snapshot, width: Int = maxWidth, height: Int = maxHeight) -> [String] {
        let width = max(20, min(width, maxWidth)), height = max(6, min(height, maxHeight))
        let groups = groups(snapshot)
        // The waves count their hosts as the groups show them (a silent host is silent in both).
        var states: [String: HostState] = [:]
        for host in groups.flatMap(\.hosts) { states[host.id] = host.state }
        var head = [title(snapshot), status(snapshot)]
        if let rollout = snapshot.rollout {
            head.append("waves")
            head += waveLines(rollout, states: states, nowMs: snapshot.nowMs, limit: 8)
        }
        var waiting: [String] = []
        if let on = snapshot.rollout?.waitingOn, !on.isEmpty {
            waiting = ["waiting on"] + on.prefix(3).map { "  " + $0 }
        }
        // The groups take what is left once the log's tail has its share; a short terminal
        // gives up log lines before groups.
        var logCount = min(snapshot.log.count, 6)
        let fixed = head.count + waiting.count + 1
        while logCount > 0 && height - fixed - (logCount + 1) < 4 { logCount -= 1 }
        let groupBudget = max(1, height - fixed - (logCount > 0 ? logCount + 1 : 0))
        var lines = head + ["redundancy groups"] + groupLines(groups, budget: groupBudget, counted: snapshot.rollout != nil) + waiting
        if logCount > 0 { lines += ["recent log"] + snapshot.log.suffix(logCount).map { "  " + $0 } }
        return lines.prefix(height).map { fit(trimmed($0), width) }
    }

    /// The bytes that replace the previous frame with `lines`: the cursor, left on the line
    /// below the previous frame, goes up exactly `previousLineCount` lines; each line is cleared
    /// before it is written; what a taller previous frame leaves below is cleared.
    public static func redraw(previousLineCount: Int, lines: [String]) -> String {
        // CSI 0 A would still move one line up: nothing to go up over means no sequence.
        var out = previousLineCount > 0 ? "\u{1B}[\(previousLineCount)A" : ""
        for line in lines { out += "\r\u{1B}[2K" + line + "\n" }
        return out + "\u{1B}[J"
    }

    /// Whether to draw the board rather than print the plain log: only on a terminal that can
    /// move its cursor, and not when the user asked for plain output (`--plain`, or
    /// `NO_COLOR` set to anything non-empty, by https://no-color.org).
    public static func isWanted(stdoutIsTerminal: Bool, environment: [String: String], plain: Bool) -> Bool {
        guard stdoutIsTerminal, !plain else { return false }
        guard let term = environment["TERM"], !term.isEmpty, term != "dumb" else { return false }
        return (environment["NO_COLOR"] ?? "").isEmpty
    }

    // MARK: - Sections

    static func title(_ s: Snapshot) -> String {
        s.title + String(format: "  ·  %.1f s", s.elapsedSeconds)
    }

    static func status(_ s: Snapshot) -> String {
        guard let r = s.rollout?.summary else { return s.phase ?? "starting" }
        var line = "rollout \(r.id) (\(r.policy)): \(r.state.rawValue)"
        if let reason = r.reason {
            line += ": \(reason)"
        } else if r.state == .running || r.state == .paused, let wave = r.currentWave {
            line += ", current wave \(wave)"
        }
        return line
    }

    static func waveLines(_ rollout: RolloutDetail, states: [String: HostState], nowMs: Int64, limit: Int) -> [String] {
        let nameWidth = min(16, rollout.waves.map(\.name.count).max() ?? 0)
        var lines: [String] = rollout.waves.prefix(limit).map { wave in
            let hosts = wave.hosts.map {
                states[$0.hostID.description] ?? HostState($0.state, wave: wave.state, rollout: rollout.summary.state, silentForMs: nil)
            }
            var parts = [pad(wave.name, nameWidth) + "  " + pad(wave.state.rawValue, 8) + "  " + hostCount(wave.hosts.count) + countsText(tally(hosts))]
            if let by = wave.approvedBy {
                parts.append("approved by \(by)")
            } else if wave.approval == .manual && wave.state == .pending {
                parts.append("needs approval")
            }
            if wave.state == .soaking, let started = wave.soakStartedAtMs {
                let done = min(Double(wave.soakSeconds), max(0, Double(nowMs - started) / 1000))
                parts.append(String(format: "soak %.1f of %d s", done, wave.soakSeconds))
            }
            return "  " + parts.joined(separator: "  ·  ")
        }
        if rollout.waves.count > limit { lines.append("  … \(rollout.waves.count - limit) more waves") }
        return lines
    }

    /// Groups in the order the rollout meets them (wave by wave), then those it leaves alone.
    static func groups(_ s: Snapshot) -> [GroupRow] {
        var rows: [GroupRow] = []
        var index: [String: Int] = [:]
        func row(_ key: String) -> Int {
            if let i = index[key] { return i }
            rows.append(GroupRow(key: key))
            index[key] = rows.count - 1
            return rows.count - 1
        }
        var assigned: Set<String> = []
        if let rollout = s.rollout {
            for wave in rollout.waves {
                for a in wave.hosts {
                    let id = a.hostID.description
                    let age = s.lastReportAgeMs[id]
                    let silentFor = age.flatMap { $0 > s.staleAfterMs ? $0 : nil }
                    let state = HostState(a.state, wave: wave.state, rollout: rollout.summary.state, silentForMs: silentFor)
                    var detail = a.detail.flatMap { $0 == a.state.rawValue || a.state == .pending ? nil : $0 }
                    if state == .silent, let silentFor { detail = "no report for \(silentFor / 1000) s: promotion blocked" }
                    rows[row(a.group)].hosts.append(HostRow(id: id, state: state, detail: detail))
                    assigned.insert(id)
                }
            }
        }
        for member in s.fleet where !assigned.contains(member.id) { rows[row(member.group)].untouched += 1 }
        return rows.filter(\.involved) + rows.filter { !$0.involved }
    }

    /// The groups in at most `budget` lines: every host of every group the rollout touches
    /// when there is room; else only the hosts that matter (failing, silent, in flight,
    /// soaking); else the quiet groups folded into one line each for involved and untouched.
    /// - Parameter counted: whether hosts have states to count (not before the rollout exists).
    static func groupLines(_ rows: [GroupRow], budget: Int, counted: Bool) -> [String] {
        let columns = Columns(
            key: min(30, rows.map(\.key.count).max() ?? 0), id: min(24, rows.flatMap(\.hosts).map(\.id.count).max() ?? 0), counted: counted)
        var best: [String] = []
        for level in 0...2 {
            best = groupLines(rows, level: level, columns)
            if best.count <= budget { return best }
        }
        guard budget > 1 else { return ["  \(number(rows.count)) groups (no room to list them)"] }
        return Array(best.prefix(budget - 1)) + ["  … \(number(best.count - budget + 1)) more lines"]
    }

    /// Widths shared by every group and host line, so that the columns line up across groups.
    struct Columns {
        var key: Int
        var id: Int
        var counted: Bool
    }

    static func groupLines(_ rows: [GroupRow], level: Int, _ columns: Columns) -> [String] {
        func counts(_ c: [HostState: Int]) -> String { columns.counted ? countsText(c) : "" }
        func header(_ g: GroupRow) -> String {
            "  " + pad(g.key, columns.key) + "  " + hostCount(g.total) + counts(g.counts)
        }
        func hostLines(_ g: GroupRow, onlyMatters: Bool, limit: Int) -> [String] {
            let shown = onlyMatters ? g.hosts.filter(\.state.matters) : g.hosts
            var lines = shown.prefix(limit).map { h in
                "    " + pad(h.id, columns.id) + "  " + pad(h.state.rawValue, 11) + (h.detail.map { "  " + $0 } ?? "")
            }
            if shown.count > limit { lines.append("    … and \(number(shown.count - limit)) more") }
            return lines
        }
        func folded(_ groups: [GroupRow], _ what: String) -> [String] {
            guard !groups.isEmpty else { return [] }
            var merged: [HostState: Int] = [:]
            for g in groups { merged.merge(g.counts, uniquingKeysWith: +) }
            let total = groups.reduce(0) { $0 + $1.total }
            let noun = groups.count == 1 ? "group" : "groups"
            return ["  \(number(groups.count)) \(noun) \(what), " + hostCount(total) + counts(merged)]
        }
        let involved = rows.filter(\.involved), untouched = rows.filter { !$0.involved }
        switch level {
        case 0:
            return involved.flatMap { [header($0)] + hostLines($0, onlyMatters: false, limit: .max) } + untouched.map(header)
        case 1:
            return involved.flatMap { [header($0)] + hostLines($0, onlyMatters: true, limit: 3) } + untouched.map(header)
        default:
            let loud = involved.filter(\.matters)
            return loud.flatMap { [header($0)] + hostLines($0, onlyMatters: true, limit: 2) }
                + folded(involved.filter { !$0.matters }, loud.isEmpty ? "in the rollout" : "more in the rollout")
                + folded(untouched, "outside the rollout")
        }
    }
}
