import Foundation
import SluiceCore

extension DemoRun {
    static func minutes(_ seconds: Int) -> String {
        seconds % 60 == 0 ? "\(seconds / 60) min" : String(format: "%.1f min", Double(seconds) / 60)
    }

    static func clock(_ seconds: Int) -> String { String(format: "%02d:%02d", seconds / 3600, seconds / 60 % 60) }

    static func comparison(sluice: Comparison.Figures, model: Comparison.Figures, seed: UInt64, haltMs: Int64?, halted: Bool) -> String {
        var rows: [(String, String, String)] = []
        func list(_ names: [String]) -> String { names.count <= 2 && !names.isEmpty ? "\(names.count) (\(names.joined(separator: ", ")))" : "\(names.count)" }
        rows.append(("regions that lost all resolvers", list(model.regionsLost), list(sluice.regionsLost)))
        rows.append(("resolver-minutes down (1 s = 1 h)", minutes(model.resolverSecondsDown), minutes(sluice.resolverSecondsDown)))
        rows.append(("region-minutes without DNS", minutes(model.regionSecondsWithoutDNS), minutes(sluice.regionSecondsWithoutDNS)))
        rows.append((
            "first failure to detection", model.firstFailureToDetectionSeconds.map(minutes) ?? "no failure",
            sluice.firstFailureToDetectionSeconds.map { _ in "0 min (the agent's own check failed)" } ?? "no failure"
        ))
        rows.append((
            "first failure to halt", model.firstFailureToDetectionSeconds == nil ? "no failure" : "never (no halt)",
            haltMs.map { String(format: "%.2f s (real time, polled every 0.1 s)", Double($0) / 1000) } ?? (halted ? "halted" : "no failure")
        ))
        rows.append(("hosts left broken", list(model.hostsBroken), list(sluice.hostsBroken)))
        rows.append(("hosts the update touched", "\(model.hostsChanged)", "\(sluice.hostsChanged)"))
        let w0 = (rows.map(\.0.count).max() ?? 0) + 2, w1 = max(rows.map(\.1.count).max() ?? 0, 22) + 2
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count)) }
        var out = "Side by side: the same fleet and update under unattended-upgrades (model, seed \(seed)) and under Sluice (this run)\n"
        out += pad("", w0) + pad("unattended-upgrades", w1) + "Sluice\n"
        for (label, a, b) in rows { out += pad(label, w0) + pad(a, w1) + b + "\n" }
        if !model.breakages.isEmpty {
            out += "unattended-upgrades timeline (apt-daily-upgrade.timer at 06:00, RandomizedDelaySec=60m; detection after 20 min, fix 40 min after a region's first failure):\n"
            for b in model.breakages { out += "  \(clock(b.brokenAt)) \(b.host) breaks (named refuses its config), fixed at \(clock(b.fixedAt))\n" }
        }
        return out
    }
}
