import SluiceCore
import SluiceSimulator
import Testing

/// The demo's live board, rendered without a terminal: what it shows, and that it stays in bounds.
@Suite("Demo board")
struct DemoBoardTests {
    static let nowMs: Int64 = 1_700_000_000_000

    static func host(_ id: String, _ group: String, _ state: AssignmentState, _ detail: String? = nil) throws -> AssignmentDetail {
        AssignmentDetail(id: 0, hostID: try HostID(parsing: id), batch: 0, group: group, state: state, detail: detail)
    }

    static func wave(_ index: Int, _ name: String, _ state: WaveState, _ hosts: [AssignmentDetail], soakStartedAtMs: Int64? = nil) -> WaveDetail {
        WaveDetail(
            index: index, name: name, state: state, approval: index == 1 ? .manual : .auto, approvedBy: nil, soakSeconds: 2,
            soakStartedAtMs: soakStartedAtMs, hosts: hosts)
    }

    static func rollout(_ state: RolloutState, _ waves: [WaveDetail], reason: String? = nil, waitingOn: [String] = []) -> RolloutDetail {
        RolloutDetail(
            summary: RolloutSummary(
                id: 1, policy: "demo", state: state, reason: reason, createdAtMs: nowMs, createdBy: "demo", packages: [], currentWave: waves.first?.name,
                counts: [:]),
            waves: waves, warnings: [], waitingOn: waitingOn)
    }

    /// The demo fleet's five resolvers and `appServers` app servers, with their groups.
    static func fleet(appServers: Int) -> [DemoBoard.Member] {
        var members = [DemoBoard.Member(id: "test1", group: "dns-resolver@lab")]
        for region in ["osc-fr1", "osc-secnum-fr1"] {
            members += (1...2).map { DemoBoard.Member(id: "dns\($0).\(region)", group: "dns-resolver@\(region)") }
        }
        members += (0..<appServers).map { DemoBoard.Member(id: "app\($0)", group: $0 % 2 == 0 ? "app@osc-fr1" : "app@osc-secnum-fr1") }
        return members
    }

    /// The incident as the controller reports it once halted: the first canary resolver rolled back.
    static func halted() throws -> RolloutDetail {
        rollout(
            .halted,
            [
                wave(0, "test", .passed, [try host("test1", "dns-resolver@lab", .succeeded)]),
                wave(
                    1, "canary", .failed,
                    [
                        try host("dns1.osc-fr1", "dns-resolver@osc-fr1", .rolledBack, "rolled back before restart: validation failed"),
                        try host("dns1.osc-secnum-fr1", "dns-resolver@osc-secnum-fr1", .cancelled),
                    ]),
                wave(
                    2, "rest", .pending,
                    [
                        try host("dns2.osc-fr1", "dns-resolver@osc-fr1", .cancelled),
                        try host("dns2.osc-secnum-fr1", "dns-resolver@osc-secnum-fr1", .failed, "health check failed"),
                    ]),
            ], reason: "wave canary: 1 host(s) failed (dns1.osc-fr1), budget 0")
    }

    static func snapshot(_ rollout: RolloutDetail?, appServers: Int = 35, log: [String] = []) -> DemoBoard.Snapshot {
        DemoBoard.Snapshot(
            title: "Sluice demo · incident", elapsedSeconds: 2, nowMs: nowMs, rollout: rollout, fleet: fleet(appServers: appServers), log: log)
    }

    /// The host line right under a group's header that names `host`.
    static func hostLine(_ lines: [String], group: String, host: String) -> String? {
        guard let header = lines.firstIndex(where: { $0.hasPrefix("  \(group) ") }) else { return nil }
        return lines[(header + 1)...].prefix { $0.hasPrefix("    ") }.first { $0.contains(" \(host) ") }
    }

    @Test func aFailedCanaryShowsAsFailedInItsGroupAndTheRestAsCancelled() throws {
        let lines = DemoBoard.render(Self.snapshot(try Self.halted()))
        #expect(lines[1] == "rollout 1 (demo): halted: wave canary: 1 host(s) failed (dns1.osc-fr1), budget 0")
        let canary = try #require(Self.hostLine(lines, group: "dns-resolver@osc-fr1", host: "dns1.osc-fr1"))
        #expect(canary.contains("rolled back  rolled back before restart: validation failed"), "\(canary)")
        let failed = try #require(Self.hostLine(lines, group: "dns-resolver@osc-secnum-fr1", host: "dns2.osc-secnum-fr1"))
        #expect(failed.contains(" failed "), "\(failed)")
        #expect(try #require(Self.hostLine(lines, group: "dns-resolver@osc-fr1", host: "dns2.osc-fr1")).contains("cancelled"))
        #expect(try #require(Self.hostLine(lines, group: "dns-resolver@lab", host: "test1")).contains("healthy"))
        // The group's header counts its hosts, worst first; the app servers are counted, not listed.
        #expect(lines.contains("  dns-resolver@osc-fr1         2 hosts: 1 rolled back, 1 cancelled"), "\(lines.joined(separator: "\n"))")
        #expect(lines.contains { $0.hasPrefix("  app@osc-fr1 ") && $0.hasSuffix("18 hosts: 18 not in rollout") })
        #expect(lines.contains { $0.hasPrefix("  canary  failed    2 hosts: 1 rolled back, 1 cancelled") })
    }

    @Test func hostStatesTellSoakingHeldAndSilentApart() throws {
        #expect(DemoBoard.HostState(.succeeded, wave: .soaking, rollout: .running, silentForMs: nil) == .soaking)
        #expect(DemoBoard.HostState(.succeeded, wave: .passed, rollout: .running, silentForMs: nil) == .healthy)
        #expect(DemoBoard.HostState(.pending, wave: .pending, rollout: .paused, silentForMs: nil) == .held)
        #expect(DemoBoard.HostState(.pending, wave: .pending, rollout: .running, silentForMs: nil) == .pending)
        #expect(DemoBoard.HostState(.applying, wave: .running, rollout: .running, silentForMs: 12_000) == .silent)
        // Silence only matters while the host is in flight or soaking: a finished host may sleep.
        #expect(DemoBoard.HostState(.rolledBack, wave: .failed, rollout: .halted, silentForMs: 12_000) == .rolledBack)

        // On the board: a host past the controller's silence limit, and one still within it.
        let detail = Self.rollout(
            .running,
            [
                Self.wave(
                    1, "canary", .running,
                    [
                        try Self.host("dns1.osc-fr1", "dns-resolver@osc-fr1", .applying),
                        try Self.host("dns1.osc-secnum-fr1", "dns-resolver@osc-secnum-fr1", .applying),
                    ])
            ])
        var snapshot = Self.snapshot(detail)
        snapshot.lastReportAgeMs = ["dns1.osc-fr1": 12_400, "dns1.osc-secnum-fr1": 900]
        let lines = DemoBoard.render(snapshot)
        #expect(try #require(Self.hostLine(lines, group: "dns-resolver@osc-fr1", host: "dns1.osc-fr1")).contains("silent       no report for 12 s"))
        #expect(try #require(Self.hostLine(lines, group: "dns-resolver@osc-secnum-fr1", host: "dns1.osc-secnum-fr1")).contains("applying"))
    }

    @Test func aSoakingWaveShowsItsProgress() throws {
        let detail = Self.rollout(
            .running, [Self.wave(0, "test", .soaking, [try Self.host("test1", "dns-resolver@lab", .succeeded)], soakStartedAtMs: Self.nowMs - 500)])
        let lines = DemoBoard.render(Self.snapshot(detail))
        #expect(lines.contains("  test  soaking   1 host: 1 soaking  ·  soak 0.5 of 2 s"), "\(lines.joined(separator: "\n"))")
    }

    @Test func beforeTheRolloutTheBoardShowsThePhaseAndTheGroupsWithoutStates() {
        var snapshot = Self.snapshot(nil)
        snapshot.phase = "enrolling the fleet over HTTP: 12 of 40 hosts"
        let lines = DemoBoard.render(snapshot)
        #expect(lines[1] == snapshot.phase)
        #expect(lines.contains { $0.hasPrefix("  dns-resolver@osc-fr1 ") && $0.hasSuffix(" 2 hosts") })
        #expect(!lines.contains { $0.contains("not in rollout") })
    }

    @Test func tenThousandHostsFitFortyLinesOfOneHundredColumns() throws {
        let log = (0..<50).map { "[ \($0).00s]   dns-resolver@osc-fr1  dns1.osc-fr1: " + String(repeating: "very long detail ", count: 10) }
        let lines = DemoBoard.render(Self.snapshot(try Self.halted(), appServers: 9_995, log: log))
        #expect(lines.count <= 40)
        #expect(lines.allSatisfy { $0.count <= 100 }, "\(lines.filter { $0.count > 100 })")
        // The resolvers are still listed host by host; the app servers are counts per group.
        #expect(Self.hostLine(lines, group: "dns-resolver@osc-fr1", host: "dns1.osc-fr1")?.contains("rolled back") == true)
        #expect(lines.contains { $0.hasPrefix("  app@osc-fr1 ") && $0.hasSuffix("4,998 hosts: 4,998 not in rollout") })
        #expect(lines.contains { $0.hasPrefix("  app@osc-secnum-fr1 ") && $0.hasSuffix("4,997 hosts: 4,997 not in rollout") })
        #expect(lines.last?.hasSuffix("…") == true, "the last log line is cut at 100 columns, and says so")
    }

    @Test func tenThousandHostsInTheRolloutFoldQuietGroupsAndKeepTheFailingOnes() throws {
        // 10,000 hosts in 500 groups of 20, all in the rollout: most pending or healthy, one
        // group with a failure, three with a host applying.
        var assignments: [AssignmentDetail] = []
        for g in 0..<500 {
            for h in 0..<20 {
                let state: AssignmentState =
                    g == 417 && h == 3 ? .failed : [3, 250, 499].contains(g) && h == 0 ? .applying : g < 200 ? .succeeded : .pending
                assignments.append(try Self.host("web\(g)-\(h)", "web@zone\(g)", state, state == .failed ? "dpkg: error processing bind9" : nil))
            }
        }
        let detail = Self.rollout(.running, [Self.wave(0, "all", .running, assignments)])
        let fleet = assignments.map { DemoBoard.Member(id: $0.hostID.description, group: $0.group) }
        let snapshot = DemoBoard.Snapshot(title: "Sluice demo", elapsedSeconds: 9, nowMs: Self.nowMs, rollout: detail, fleet: fleet)
        for (width, height) in [(100, 40), (80, 24), (60, 16)] {
            let lines = DemoBoard.render(snapshot, width: width, height: height)
            #expect(lines.count <= height)
            #expect(lines.allSatisfy { $0.count <= width })
            #expect(lines.contains { $0.contains("web417-3") && $0.contains("failed") }, "\(width)x\(height):\n\(lines.joined(separator: "\n"))")
        }
        let lines = DemoBoard.render(snapshot)
        #expect(lines.contains("  496 groups more in the rollout, 9,920 hosts: 5,940 pending, 3,980 succeeded"), "\(lines.joined(separator: "\n"))")
    }

    @Test func isWantedOnlyOnARealTerminalWhenNotAskedForPlain() {
        let term = ["TERM": "xterm-256color"]
        #expect(DemoBoard.isWanted(stdoutIsTerminal: true, environment: term, plain: false))
        #expect(!DemoBoard.isWanted(stdoutIsTerminal: false, environment: term, plain: false))
        #expect(!DemoBoard.isWanted(stdoutIsTerminal: true, environment: term, plain: true))
        #expect(!DemoBoard.isWanted(stdoutIsTerminal: true, environment: ["TERM": "dumb"], plain: false))
        #expect(!DemoBoard.isWanted(stdoutIsTerminal: true, environment: [:], plain: false))
        #expect(!DemoBoard.isWanted(stdoutIsTerminal: true, environment: term.merging(["NO_COLOR": "1"]) { $1 }, plain: false))
        #expect(DemoBoard.isWanted(stdoutIsTerminal: true, environment: term.merging(["NO_COLOR": ""]) { $1 }, plain: false))
    }

    @Test func eachRedrawMovesUpExactlyThePreviousFrameAndLeavesOnlyTheNewOne() throws {
        #expect(!DemoBoard.redraw(previousLineCount: 0, lines: ["a"]).contains("A"))
        #expect(DemoBoard.redraw(previousLineCount: 7, lines: ["a", "b"]).hasPrefix("\u{1B}[7A"))

        // Three frames of different heights on a small emulated terminal, below a line of
        // text printed before the board: the screen holds that line and the last frame only.
        let frames = [
            DemoBoard.render(Self.snapshot(nil)),
            DemoBoard.render(Self.snapshot(try Self.halted(), log: ["one", "two"])),
            ["short", "frame"],
        ]
        var screen = TerminalEmulator()
        screen.feed("Sluice demo: scenario incident\n")
        var previous = 0
        for frame in frames {
            let bytes = DemoBoard.redraw(previousLineCount: previous, lines: frame)
            let ups = bytes.matches(of: /\x1B\[(\d+)A/).map { Int($0.1) }
            #expect(ups == (previous > 0 ? [previous] : []))
            screen.feed(bytes)
            #expect(screen.row == 1 + frame.count, "the cursor ends on the line below the frame")
            previous = frame.count
        }
        #expect(screen.visibleLines == ["Sluice demo: scenario incident", "short", "frame"])
    }
}

/// Just enough of a VT100 for the board's redraw: CSI n A, CSI 2K, CSI J, CR and LF.
struct TerminalEmulator {
    var lines: [String] = [""]
    var row = 0
    var column = 0

    var visibleLines: [String] {
        var out = lines
        while out.last?.isEmpty == true { out.removeLast() }
        return out
    }

    mutating func feed(_ text: String) {
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            switch c {
            case "\u{1B}":
                guard chars.popFirst() == "[" else { continue }
                var digits = ""
                while let d = chars.first, d.isNumber {
                    digits.append(d)
                    chars.removeFirst()
                }
                let n = Int(digits)
                switch chars.popFirst() {
                case "A": row = max(0, row - max(1, n ?? 1))
                case "K" where n == 2: lines[row] = ""
                case "J": lines = Array(lines.prefix(row)) + [String(lines[row].prefix(column))]
                default: break
                }
            case "\r": column = 0
            case "\n":
                row += 1
                column = 0
                if row == lines.count { lines.append("") }
            default:
                var line = Array(lines[row])
                while line.count < column { line.append(" ") }
                if column < line.count { line[column] = c } else { line.append(c) }
                lines[row] = String(line)
                column += 1
            }
        }
    }
}
