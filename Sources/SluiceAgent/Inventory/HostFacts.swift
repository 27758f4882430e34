import SluiceCore

/// Pure readers for the host facts that are not package lists: `/etc/os-release`,
/// `/var/run/reboot-required.pkgs`, and whether unattended-upgrades would still run.
public enum HostFacts {
    /// What `systemctl is-enabled apt-daily-upgrade.timer` said.
    public enum TimerState: Sendable, Equatable {
        /// The unit file state systemctl printed: `enabled`, `disabled`, `masked`, `static`,
        /// `not-found`, …
        case state(String)
        /// `systemctl` is not installed: no systemd, so no timer.
        case noSystemd
        /// systemctl ran but gave no state; the text says what it printed instead.
        case unknown(String)
    }

    /// Timer states under which systemd starts the timer.
    static let runningTimerStates: Set<String> = [
        "enabled", "enabled-runtime", "static", "alias", "generated", "transient",
    ]
    /// Timer states under which systemd never starts the timer.
    static let stoppedTimerStates: Set<String> = [
        "disabled", "masked", "masked-runtime", "not-found", "bad", "linked", "linked-runtime",
    ]

    /// Reads `/etc/os-release` (os-release(5)): `KEY=value` lines, values optionally in single
    /// or double quotes with backslash escapes, `#` comments and blank lines ignored.
    ///
    /// Missing `ID` and `PRETTY_NAME` take the defaults os-release(5) gives (`linux`, `Linux`);
    /// a value with control characters or longer than the report allows counts as missing.
    /// - Parameter text: the file's contents.
    public static func parseOSRelease(_ text: String) -> OSRelease {
        var values: [String: String] = [:]
        for (_, line) in numberedLines(text) where line.utf8.count <= maxLineLength {
            let trimmed = line.trimmingBlanks()
            guard !trimmed.hasPrefix("#"), let equals = trimmed.firstIndex(of: "=") else { continue }
            let key = String(trimmed[..<equals])
            values[key] = unquote(trimmed[trimmed.index(after: equals)...])
        }
        func field(_ key: String, max: Int) -> String? {
            guard let value = values[key], !value.isEmpty, value.utf8.count <= max,
                value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
            else { return nil }
            return value
        }
        return OSRelease(
            id: field("ID", max: 64) ?? "linux",
            versionID: field("VERSION_ID", max: 64),
            versionCodename: field("VERSION_CODENAME", max: 64) ?? field("UBUNTU_CODENAME", max: 64),
            prettyName: field("PRETTY_NAME", max: 256) ?? "Linux"
        )
    }

    /// Shell-style unquoting as os-release(5) allows it.
    private static func unquote(_ raw: Substring) -> String {
        guard let quote = raw.first, quote == "\"" || quote == "'" else { return raw.trimmingBlanks() }
        var out = ""
        var escaped = false
        for char in raw.dropFirst() {
            if escaped {
                out.append(char)
                escaped = false
            } else if char == "\\" && quote == "\"" {
                escaped = true
            } else if char == quote {
                break
            } else {
                out.append(char)
            }
        }
        return out
    }

    /// Reads `/var/run/reboot-required.pkgs`: one package name per line. Blank lines and lines
    /// that are not valid package names are skipped; the result is deduplicated, sorted and
    /// cut to ``InventoryReport/maxRebootPackages``.
    /// - Parameter text: the file's contents.
    public static func parseRebootRequiredPackages(_ text: String) -> [String] {
        var names = Set<String>()
        for (_, line) in numberedLines(text) where line.utf8.count <= PackageName.maxLength + 2 {
            if let name = try? PackageName(parsing: line.trimmingBlanks()) { names.insert(name.rawValue) }
        }
        return Array(names.sorted().prefix(InventoryReport.maxRebootPackages))
    }

    /// The value `apt-config dump` prints for `key` (`Key "value";`), the last one if it is
    /// printed twice, or `nil` when absent. apt compares keys case-insensitively, and so does this.
    /// - Parameters:
    ///   - key: the full option name, such as `APT::Periodic::Unattended-Upgrade`.
    ///   - dump: `apt-config dump` standard output.
    public static func aptConfigValue(_ key: String, in dump: String) -> String? {
        let wanted = key.lowercased()
        var value: String?
        for (_, line) in numberedLines(dump) where line.utf8.count <= maxLineLength {
            guard let space = line.firstIndex(of: " "), line[..<space].lowercased() == wanted else { continue }
            let rest = line[space...]
            guard let open = rest.firstIndex(of: "\""), let close = rest.lastIndex(of: "\""), open < close else {
                continue
            }
            value = String(rest[rest.index(after: open)..<close])
        }
        return value
    }

    /// Reads the result of `systemctl is-enabled apt-daily-upgrade.timer`, which exits non-zero
    /// for disabled units but still prints their state.
    /// - Parameter result: what the command produced.
    public static func timerState(from result: CommandResult) -> TimerState {
        let word = result.stdout.split(whereSeparator: \.isNewline).first.map { $0.trimmingBlanks() } ?? ""
        if runningTimerStates.contains(word) || stoppedTimerStates.contains(word) || word == "indirect" {
            return .state(word)
        }
        let problem = result.firstStderrLine ?? (word.isEmpty ? "no output, status \(result.status)" : word)
        if problem.contains("No such file or directory") || problem.contains("not found") {
            return .state("not-found")
        }
        return .unknown(CommandError.oneLine(problem, limit: 120))
    }

    /// Decides whether unattended-upgrades would run on its own, and says why in one line.
    ///
    /// It runs only when the package is installed, `APT::Periodic::Enable` is not `0`,
    /// `APT::Periodic::Unattended-Upgrade` is set to a non-zero interval (apt's default is
    /// `0`), and systemd starts `apt-daily-upgrade.timer`. Without systemd, cron may run it
    /// instead, so the answer is `nil` (unknown) rather than a false `false`.
    /// - Parameters:
    ///   - packageInstalled: whether dpkg lists `unattended-upgrades` with an installed version.
    ///   - aptConfig: `apt-config dump` output, or why it could not be read.
    ///   - timer: what systemctl said about `apt-daily-upgrade.timer`.
    public static func unattendedUpgradesStatus(
        packageInstalled: Bool, aptConfig: Result<String, CommandError>, timer: TimerState
    ) -> UnattendedUpgradesStatus {
        guard packageInstalled else {
            return UnattendedUpgradesStatus(enabled: false, detail: "unattended-upgrades not installed")
        }
        var detail = "unattended-upgrades installed"
        let dump: String
        switch aptConfig {
        case .success(let text): dump = text
        case .failure(let error):
            return UnattendedUpgradesStatus(enabled: nil, detail: "\(detail), apt-config failed: \(error.description)")
        }
        if let enable = aptConfigValue("APT::Periodic::Enable", in: dump), isZeroInterval(enable) {
            return UnattendedUpgradesStatus(enabled: false, detail: "\(detail), APT::Periodic::Enable \(quoted(enable, limit: 32))")
        }
        let key = "APT::Periodic::Unattended-Upgrade"
        guard let interval = aptConfigValue(key, in: dump) else {
            return UnattendedUpgradesStatus(enabled: false, detail: "\(detail), \(key) not set (apt's default is \"0\")")
        }
        detail += ", \(key) \(quoted(interval, limit: 32))"
        if isZeroInterval(interval) { return UnattendedUpgradesStatus(enabled: false, detail: detail) }
        switch timer {
        case .state(let state) where runningTimerStates.contains(state):
            return UnattendedUpgradesStatus(enabled: true, detail: "\(detail), apt-daily-upgrade.timer \(state)")
        case .state(let state) where stoppedTimerStates.contains(state):
            return UnattendedUpgradesStatus(enabled: false, detail: "\(detail), apt-daily-upgrade.timer \(state)")
        case .state(let state):
            return UnattendedUpgradesStatus(enabled: nil, detail: "\(detail), apt-daily-upgrade.timer \(state)")
        case .noSystemd:
            return UnattendedUpgradesStatus(enabled: nil, detail: "\(detail), no systemd (cron may run it)")
        case .unknown(let problem):
            return UnattendedUpgradesStatus(enabled: nil, detail: "\(detail), apt-daily-upgrade.timer state unknown: \(problem)")
        }
    }

    /// `0`, `00` or `0d` (apt.systemd.daily accepts s/m/h/d units) and the empty string
    /// mean "never"; `always` and any other interval mean "runs".
    static func isZeroInterval(_ value: String) -> Bool {
        let digits = value.last.map { "smhd".contains($0) } == true ? value.dropLast() : Substring(value)
        return digits.allSatisfy { $0 == "0" }
    }
}
