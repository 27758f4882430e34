import SluiceCore

extension PolicyLoader {
    /// One line for people: the name, each wave with its strategy, approval and soak, the
    /// roles with checks, the schedule, and the dependencies rule when it is not `refuse`.
    ///
    /// `security-updates: waves test (all, soak 2h) > canary (one-per-group, manual, soak 4h) > rest (batches 20%, soak 1h); roles: none; schedule: daily 03:00 Europe/Paris`
    public static func summary(of policy: Policy) -> String {
        let waves = policy.waves.map { wave in
            var parts = [strategyText(wave.strategy)]
            if wave.approval == .manual { parts.append("manual") }
            if wave.soakSeconds > 0 { parts.append("soak \(durationText(wave.soakSeconds))") }
            if !wave.windows.isEmpty { parts.append(wave.windows.count == 1 ? "1 window" : "\(wave.windows.count) windows") }
            return "\(wave.name) (\(parts.joined(separator: ", ")))"
        }
        let roles = policy.roles.keys.sorted()
        var line = "\(policy.name): waves \(waves.joined(separator: " > ")); roles: \(roles.isEmpty ? "none" : roles.joined(separator: ", "))"
        switch policy.schedule {
        case nil: line += "; schedule: none (rollouts created by operators)"
        case .daily(let minute, let zone): line += "; schedule: daily \(clockText(minute)) \(zone)"
        case .onNewCandidates(let debounce): line += "; schedule: on new candidates, debounce \(durationText(debounce))"
        }
        if policy.dependencies != .refuse { line += "; dependencies: \(policy.dependencies.rawValue)" }
        if policy.onFailure != .halt { line += "; on_failure: \(policy.onFailure.rawValue)" }
        return line
    }

    static func strategyText(_ strategy: WaveStrategy) -> String {
        switch strategy {
        case .all: "all"
        case .onePerGroup: "one-per-group"
        case .batches(.hosts(let n)): "batches of \(n)"
        case .batches(.percent(let p)): "batches of \(p)%"
        }
    }

    /// `2h`, `1h30m`, `45s`, `0s`: the form the YAML takes.
    static func durationText(_ seconds: Int64) -> String {
        guard seconds > 0 else { return "0s" }
        var rest = seconds
        var out = ""
        for (unit, size) in [("d", Int64(86400)), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }

    static func clockText(_ minute: Int) -> String {
        let h = minute / 60, m = minute % 60
        return (h < 10 ? "0\(h)" : "\(h)") + ":" + (m < 10 ? "0\(m)" : "\(m)")
    }
}
