import SluiceCore

extension UnattendedUpgradesImport.Draft {
    /// The policy as YAML in the style of `policies/*.yaml`, each translated value under a
    /// comment naming its line in the file, and the findings at the top.
    func yaml() -> String {
        var out: [String] = []
        func comment(_ text: String, indent: String = "") { out.append(indent + (text.isEmpty ? "#" : "# " + Self.oneLine(text))) }
        comment("Imported from \(file) by sluicectl policy import-uu.")
        comment("unattended-upgrades had every host upgrade itself on its own timer; the waves below are Sluice's own")
        comment("(the test environment, one host of each redundancy group, then the rest): adjust them to your labels.")
        let notTranslated = findings.filter { !$0.needsNoEquivalent }
        if !notTranslated.isEmpty {
            comment("")
            for finding in notTranslated { comment(finding.description) }
        }
        let noEquivalent = findings.filter(\.needsNoEquivalent)
        if !noEquivalent.isEmpty {
            comment("")
            for finding in noEquivalent { comment(finding.description) }
        }
        out.append("name: \(options.policyName)")
        out.append("")
        if !origins.isEmpty || !include.isEmpty || !exclude.isEmpty {
            out.append("qualify:")
            if !origins.isEmpty {
                out.append("  origins:")
                for (pattern, source) in origins {
                    comment(source, indent: "    ")
                    out.append("    - " + Self.flow(pattern))
                }
            }
            for (key, lists) in [("include", include), ("exclude", exclude)] where !lists.isEmpty {
                out.append("  \(key):")
                for (globs, source) in lists {
                    comment(source, indent: "    ")
                    for glob in globs { out.append("    - " + Self.quotedYAML(glob)) }
                }
            }
            out.append("")
        }
        if includeDependencies {
            comment("Package-Whitelist-Strict is off: the listed packages may pull in upgrades from the same origins")
            comment("(unlike unattended-upgrades, exclude does not hold those back: the rollout plan shows them).")
            out.append("dependencies: include-from-qualified-origins")
            out.append("")
        }
        out.append("groups:")
        out.append("  labels: [role, region]")
        out.append("  max_unavailable: 1")
        out.append("")
        comment("unattended-upgrades ran from apt-daily-upgrade.timer, daily at 06:00 plus up to an hour.")
        out.append("schedule: {daily: \"06:00\", time_zone: \(Self.quotedYAML(options.timeZone))}")
        out.append("")
        out.append("waves:")
        let waves: [(name: String, select: String, strategy: String, soak: String)] = [
            ("test", "{environment: test}", "all", "2h"),
            ("canary", "all", "one-per-group", "4h"),
            ("rest", "all", "{batches: \"20%\"}", "1h"),
        ]
        for wave in waves {
            out.append("  - name: \(wave.name)")
            out.append("    select: \(wave.select)")
            out.append("    strategy: \(wave.strategy)")
            out.append("    soak: \(wave.soak)")
            out.append("    approval: auto")
            if !days.isEmpty {
                comment("Update-Days (\(daysSource)): any time of these days.", indent: "    ")
                let list = days.joined(separator: ", ")
                out.append("    windows: [{days: [\(list)], from: \"00:00\", to: \"24:00\", time_zone: \(Self.quotedYAML(options.timeZone))}]")
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func flow(_ pattern: OriginPattern) -> String {
        let fields: [(String, String?)] = [
            ("origin", pattern.origin), ("label", pattern.label), ("archive", pattern.archive), ("codename", pattern.codename),
            ("component", pattern.component),
        ]
        return "{" + fields.compactMap { key, value in value.map { "\(key): \(quotedYAML($0))" } }.joined(separator: ", ") + "}"
    }

    /// A YAML double-quoted scalar: always quoted, so that no value is read as another type.
    static func quotedYAML(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if isBreakOrControl(scalar) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Comments are one line each, whatever the file held.
    static func oneLine(_ text: String) -> String {
        String(text.unicodeScalars.map { isBreakOrControl($0) ? " " : Character($0) })
    }

    /// Control characters, and what YAML also reads as a line break (NEL, LS, PS).
    static func isBreakOrControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}
