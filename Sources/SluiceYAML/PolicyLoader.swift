import Foundation
import SluiceCore

/// Reads rollout policies from YAML (`policies/*.yaml`; the schema is in `policies/README.md`).
///
/// Strict: unknown keys, wrong types, bad durations, times, days or time zones, empty
/// selectors, unreachable waves and unknown roles are refused with one line
/// `file:line:column: path: what is wrong`, and nothing is loaded.
public enum PolicyLoader {
    /// Larger policy files are refused before they are read.
    public static let maxFileBytes = 1 << 20

    /// Reads one policy document.
    public static func load(_ text: String, file: String) throws(InvalidInput) -> Policy {
        try loadLocated(text, file: file).policy
    }

    /// Reads one policy file.
    public static func loadFile(_ path: String) throws(InvalidInput) -> Policy {
        try loadLocated(readText(path), file: path).policy
    }

    /// Reads policy files in the order given: all of them or none, policy names unique.
    public static func loadFiles(_ paths: [String]) throws(InvalidInput) -> [Policy] {
        var policies: [Policy] = []
        var fileByName: [String: String] = [:]
        for path in paths {
            let (policy, nameValue) = try loadLocated(readText(path), file: path)
            if let other = fileByName[policy.name] {
                throw nameValue.error("policy \(quoted(policy.name)) is already defined in \(other)")
            }
            fileByName[policy.name] = path
            policies.append(policy)
        }
        return policies
    }

    /// Reads every `*.yaml` file of a directory (not its subdirectories, not hidden files),
    /// sorted by file name: all of them or none, policy names unique.
    public static func loadDirectory(_ path: String) throws(InvalidInput) -> [Policy] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw InvalidInput("\(path): cannot read the policy directory: \(error.localizedDescription)")
        }
        let files = names.filter { $0.hasSuffix(".yaml") && !$0.hasPrefix(".") }.sorted()
        let base = path.hasSuffix("/") ? path : path + "/"
        return try loadFiles(files.map { base + $0 })
    }

    // MARK: - The document

    static let topKeys = ["name", "qualify", "groups", "schedule", "waves", "roles", "dependencies", "on_failure"]

    /// The policy and its `name` value, for errors about the name in context of other files.
    static func loadLocated(_ text: String, file: String) throws(InvalidInput) -> (policy: Policy, name: YAMLValue) {
        let root = try YAMLValue.load(text, file: file)
        guard root.hasPlace else {
            throw InvalidInput("\(file):1:1: the policy is empty: it needs at least a name and waves")
        }
        let top = try root.mapping(allowed: topKeys)
        let nameValue = try root.required("name", in: top)
        let name = try identifier(nameValue, what: "policy name")
        let qualify = try top["qualify"].map(qualifyRules) ?? QualifyRules()
        let groups = try top["groups"].map(groupRules) ?? GroupRules()
        let schedule = try top["schedule"].map(schedule)
        let roles = try top["roles"].map(roleTable) ?? [:]
        let waves = try waveList(root.required("waves", in: top), roles: roles)
        let dependencies = try top["dependencies"].map(dependencyRule) ?? .refuse
        let onFailure = try top["on_failure"].map(failureAction) ?? .halt
        let policy = Policy(
            name: name, qualify: qualify, groups: groups, waves: waves, roles: roles, schedule: schedule, dependencies: dependencies,
            onFailure: onFailure)
        return (policy, nameValue)
    }

    static func readText(_ path: String) throws(InvalidInput) -> String {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > maxFileBytes {
            throw InvalidInput("\(path): larger than 1 MiB")
        }
        guard FileManager.default.fileExists(atPath: path) else { throw InvalidInput("\(path): no such file") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw InvalidInput("\(path): cannot read: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw InvalidInput("\(path): not UTF-8 text") }
        return text
    }

    // MARK: - Names

    /// A policy or wave name: what operators type on the command line.
    static func identifier(_ value: YAMLValue, what: String) throws(InvalidInput) -> String {
        let text = try value.string()
        guard isIdentifier(text) else { throw value.error("invalid \(what) \(quoted(text)): \(identifierRule)") }
        return text
    }

    static let identifierRule = "use 1 to 63 characters of a-z, 0-9, '-', '_', starting with a letter or digit"

    static func isIdentifier(_ text: String) -> Bool {
        (1...63).contains(text.utf8.count) && text.unicodeScalars.first?.isLowerAlphanumeric == true
            && text.unicodeScalars.allSatisfy({ $0.isLowerAlphanumeric || $0 == "-" || $0 == "_" })
    }

    static func dependencyRule(_ value: YAMLValue) throws(InvalidInput) -> DependencyRule {
        let text = try value.string()
        guard let rule = DependencyRule(rawValue: text) else {
            throw value.error(
                "unknown dependencies rule \(quoted(text)): use \(DependencyRule.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return rule
    }

    static func failureAction(_ value: YAMLValue) throws(InvalidInput) -> FailureAction {
        let text = try value.string()
        guard let action = FailureAction(rawValue: text) else {
            throw value.error("unknown on_failure \(quoted(text)): use \(FailureAction.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return action
    }

    // MARK: - qualify

    static let originKeys = ["origin", "label", "archive", "suite", "codename", "component"]

    static func qualifyRules(_ value: YAMLValue) throws(InvalidInput) -> QualifyRules {
        let map = try value.mapping(allowed: ["origins", "include", "exclude"])
        var rules = QualifyRules()
        if let origins = map["origins"] {
            let items = try origins.array()
            guard !items.isEmpty else {
                throw origins.error("list at least one origin pattern, or leave origins out to take security archives only")
            }
            for item in items { rules.origins.append(try originPattern(item)) }
        }
        if let include = map["include"] {
            rules.include = try packageGlobs(include)
            guard !rules.include.isEmpty else {
                throw include.error("list at least one package glob, or leave include out to take every package")
            }
        }
        if let exclude = map["exclude"] { rules.exclude = try packageGlobs(exclude) }
        return rules
    }

    static func originPattern(_ value: YAMLValue) throws(InvalidInput) -> OriginPattern {
        let map = try value.mapping(allowed: originKeys)
        guard !map.isEmpty else {
            throw value.error("an origin pattern needs at least one of: origin, label, archive, codename, component")
        }
        if map["archive"] != nil, let suite = map["suite"] {
            throw suite.error("archive and suite are the same field: give one of them")
        }
        func field(_ key: String) throws(InvalidInput) -> String? {
            guard let item = map[key] else { return nil }
            let text = try item.string()
            guard !text.isEmpty else { throw item.error("must not be empty (leave the key out to match any \(key))") }
            var rest = Substring(text)
            while let start = rest.range(of: "${") {
                let after = rest[start.upperBound...]
                guard let close = after.firstIndex(of: "}") else { throw item.error("unclosed \"${\" in \(quoted(text))") }
                let variable = after[..<close]
                guard variable == "distro_codename" else {
                    throw item.error("unknown variable \(quoted("${\(variable)}")) (only ${distro_codename} is expanded)")
                }
                rest = after[after.index(after: close)...]
            }
            return text
        }
        let archive = try field("archive")
        let suite = try field("suite")
        return OriginPattern(
            origin: try field("origin"), label: try field("label"), archive: archive ?? suite, codename: try field("codename"),
            component: try field("component"))
    }

    static func packageGlobs(_ value: YAMLValue) throws(InvalidInput) -> [String] {
        var globs: [String] = []
        for item in try value.array() {
            let glob = try item.string()
            guard !glob.isEmpty, !glob.contains(where: \.isWhitespace) else {
                throw item.error("invalid package glob \(quoted(glob)): a name pattern without spaces, such as \"linux-image-*\"")
            }
            guard !glob.contains("${") else { throw item.error("variables are expanded in origin patterns only, not in package globs") }
            globs.append(glob)
        }
        return globs
    }

    // MARK: - groups

    static func groupRules(_ value: YAMLValue) throws(InvalidInput) -> GroupRules {
        let map = try value.mapping(allowed: ["labels", "max_unavailable"])
        var rules = GroupRules()
        if let labels = map["labels"] {
            let items = try labels.array()
            guard !items.isEmpty else { throw labels.error("list at least one label, such as [role, region]") }
            var keys: [String] = []
            for item in items {
                let key = try labelKey(item)
                guard !keys.contains(key) else { throw item.error("label \(quoted(key)) appears twice") }
                keys.append(key)
            }
            rules.labels = keys
        }
        if let max = map["max_unavailable"] {
            let n = try max.int()
            guard n >= 1 else { throw max.error("must be at least 1, got \(n)") }
            rules.maxUnavailable = n
        }
        return rules
    }

    static func labelKey(_ value: YAMLValue) throws(InvalidInput) -> String {
        let key = try value.string()
        do { _ = try Labels(validating: [key: "x"]) } catch { throw value.error(error.message) }
        return key
    }

    // MARK: - schedule

    static func schedule(_ value: YAMLValue) throws(InvalidInput) -> Schedule {
        let map = try value.mapping(allowed: ["daily", "time_zone", "on_new_candidates"])
        switch (map["daily"], map["on_new_candidates"]) {
        case (let daily?, nil):
            let minute = try clockTime(daily, allowEndOfDay: false)
            let zone = try timeZone(value.required("time_zone", in: map, hint: "the zone the time is in, such as Europe/Paris"))
            return .daily(minuteOfDay: minute, timeZone: zone)
        case (nil, let onNew?):
            if let zone = map["time_zone"] { throw zone.error("time_zone goes with daily only") }
            let options = try onNew.mapping(allowed: ["debounce"])
            let debounce = try options["debounce"].map(soakDuration) ?? 15 * 60
            return .onNewCandidates(debounceSeconds: debounce)
        case (_?, _?):
            throw value.error("give either daily or on_new_candidates, not both")
        case (nil, nil):
            throw value.error("expected {daily: \"HH:MM\", time_zone: ZONE} or {on_new_candidates: {debounce: DURATION}}")
        }
    }

    /// `HH:MM` as minutes after midnight; `24:00` only where a span may end at midnight.
    static func clockTime(_ value: YAMLValue, allowEndOfDay: Bool) throws(InvalidInput) -> Int {
        let text = try value.string()
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), minute < 60
        {
            if hour < 24 { return hour * 60 + minute }
            if allowEndOfDay, hour == 24, minute == 0 { return 24 * 60 }
        }
        throw value.error("invalid time \(quoted(text)): expected HH:MM from 00:00 to \(allowEndOfDay ? "24:00" : "23:59")")
    }

    static func timeZone(_ value: YAMLValue) throws(InvalidInput) -> String {
        let text = try value.string()
        guard !text.isEmpty, TimeZone(identifier: text) != nil else {
            throw value.error("unknown time zone \(quoted(text)) (use an IANA name such as Europe/Paris or UTC)")
        }
        return text
    }
}

extension YAMLValue {
    /// The value of a required key of this mapping, or an error at the mapping.
    func required(_ key: String, in map: [String: YAMLValue], hint: String? = nil) throws(InvalidInput) -> YAMLValue {
        guard let value = map[key] else { throw error("missing key \(quoted(key))\(hint.map { ": \($0)" } ?? "")") }
        return value
    }
}

extension Unicode.Scalar {
    var isLowerAlphanumeric: Bool { ("a"..."z").contains(self) || ("0"..."9").contains(self) }
}
