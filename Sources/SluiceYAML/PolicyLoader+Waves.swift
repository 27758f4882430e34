import Foundation
import SluiceCore

extension PolicyLoader {
    /// More would be a mistake; it also bounds the pairwise reachability check.
    static let maxWaves = 100
    static let waveKeys = ["name", "select", "strategy", "soak", "approval", "failure_budget", "windows", "blackout_dates", "apply_deadline"]

    /// A parsed wave with the places its parts came from, for the checks across waves.
    struct LocatedWave {
        var spec: WaveSpec
        var index: Int
        var select: YAMLValue
        /// Each selector key's value (a string or a list), for errors about its values.
        var selectorValues: [String: YAMLValue]
    }

    static func waveList(_ value: YAMLValue, roles: [String: RoleChecks]) throws(InvalidInput) -> [WaveSpec] {
        let items = try value.array()
        guard !items.isEmpty else { throw value.error("a policy needs at least one wave") }
        guard items.count <= maxWaves else { throw value.error("\(items.count) waves: at most \(maxWaves)") }
        var waves: [LocatedWave] = []
        var indexByName: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let (wave, nameValue) = try wave(item, index: index)
            if let first = indexByName[wave.spec.name] {
                throw nameValue.error("duplicate wave name \(quoted(wave.spec.name)) (also waves[\(first)])")
            }
            indexByName[wave.spec.name] = index
            waves.append(wave)
        }
        try checkReachable(waves)
        try checkRoles(waves, roles: roles)
        return waves.map(\.spec)
    }

    static func wave(_ value: YAMLValue, index: Int) throws(InvalidInput) -> (LocatedWave, name: YAMLValue) {
        let map = try value.mapping(allowed: waveKeys)
        let nameValue = try value.required("name", in: map)
        let name = try identifier(nameValue, what: "wave name")
        let select = try value.required("select", in: map, hint: "a wave must select hosts by label, or say select: all")
        let (selector, selectorValues) = try selector(select)
        var spec = WaveSpec(name: name, selector: selector)
        if let strategy = map["strategy"] { spec.strategy = try waveStrategy(strategy) }
        if let soak = map["soak"] { spec.soakSeconds = try soakDuration(soak) }
        if let approval = map["approval"] {
            let text = try approval.string()
            guard let parsed = Approval(rawValue: text) else {
                throw approval.error("unknown approval \(quoted(text)) (expected auto or manual)")
            }
            spec.approval = parsed
        }
        if let budget = map["failure_budget"] {
            let n = try budget.int()
            guard n >= 0 else { throw budget.error("must be 0 or more, got \(n)") }
            spec.failureBudget = n
        }
        if let deadline = map["apply_deadline"] { spec.applyDeadlineSeconds = Int64(try timeout(deadline)) }
        if let windows = map["windows"] {
            for item in try windows.array() { spec.windows.append(try maintenanceWindow(item)) }
        }
        if let dates = map["blackout_dates"] {
            for item in try dates.array() {
                let date = try calendarDate(item)
                guard !spec.blackoutDates.contains(date) else { throw item.error("date \(date) appears twice") }
                spec.blackoutDates.append(date)
            }
        }
        return (LocatedWave(spec: spec, index: index, select: select, selectorValues: selectorValues), nameValue)
    }

    // MARK: - select

    /// `all`, or label keys to one value or a list of values.
    static func selector(_ value: YAMLValue) throws(InvalidInput) -> ([String: [String]], [String: YAMLValue]) {
        if let text = value.scalarText {
            guard text == "all" else {
                throw value.error("expected a mapping of labels to values, such as {environment: test}, or all for every host")
            }
            return ([:], [:])
        }
        guard value.isMapping else {
            throw value.error("expected a mapping of labels to values, such as {environment: test}, or all for every host")
        }
        let entries = try value.entries()
        guard !entries.isEmpty else {
            throw value.error("empty selector: name at least one label, or write select: all for every host")
        }
        var selector: [String: [String]] = [:]
        var places: [String: YAMLValue] = [:]
        for (key, keyValue, item) in entries {
            _ = try labelKey(keyValue)
            let listed: [YAMLValue] = item.scalarText != nil ? [item] : try item.array()
            guard !listed.isEmpty else { throw item.error("list at least one value") }
            var values: [String] = []
            for element in listed {
                let text = try element.string()
                do { _ = try Labels(validating: [key: text]) } catch { throw element.error(error.message) }
                guard !values.contains(text) else { throw element.error("value \(quoted(text)) appears twice") }
                values.append(text)
            }
            selector[key] = values
            places[key] = item
        }
        return (selector, places)
    }

    // MARK: - strategy

    static func waveStrategy(_ value: YAMLValue) throws(InvalidInput) -> WaveStrategy {
        let expected = "expected all, one-per-group, {batches: N} or {batches: \"N%\"}"
        if let text = value.scalarText {
            switch text {
            case "all": return .all
            case "one-per-group": return .onePerGroup
            case "batches": throw value.error("batches needs a size: {batches: 5} hosts or {batches: \"10%\"} of the wave")
            default: throw value.error("unknown strategy \(quoted(text)) (\(expected))")
            }
        }
        guard value.isMapping else { throw value.error(expected) }
        let map = try value.mapping(allowed: ["batches"])
        guard let size = map["batches"] else { throw value.error(expected) }
        return .batches(size: try batchSize(size))
    }

    static func batchSize(_ value: YAMLValue) throws(InvalidInput) -> BatchSize {
        guard let text = value.scalarText else {
            throw value.error("expected a number of hosts such as 5, or a percent such as \"10%\"")
        }
        if text.hasSuffix("%") {
            let digits = text.dropLast()
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let percent = Int(digits),
                (1...100).contains(percent)
            else { throw value.error("batch percent must be from 1% to 100%, got \(quoted(text))") }
            return .percent(percent)
        }
        let hosts: Int
        do { hosts = try value.int() } catch {
            throw value.error("expected a number of hosts such as 5, or a percent such as \"10%\", got \(quoted(text))")
        }
        guard hosts >= 1 else { throw value.error("batch size must be at least 1 host, got \(hosts)") }
        return .hosts(hosts)
    }

    // MARK: - windows and dates

    static let dayNumbers: [String: Int] = [
        "sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7,
        "sunday": 1, "monday": 2, "tuesday": 3, "wednesday": 4, "thursday": 5, "friday": 6, "saturday": 7,
    ]

    static func maintenanceWindow(_ value: YAMLValue) throws(InvalidInput) -> MaintenanceWindow {
        let map = try value.mapping(allowed: ["days", "from", "to", "time_zone"])
        var weekdays = Set(1...7)
        if let days = map["days"] {
            let items = try days.array()
            guard !items.isEmpty else { throw days.error("list at least one day, or leave days out for every day") }
            weekdays = []
            for item in items {
                let text = try item.string()
                guard let day = dayNumbers[text.lowercased()] else {
                    throw item.error("unknown day \(quoted(text)) (expected mon, tue, wed, thu, fri, sat or sun)")
                }
                guard weekdays.insert(day).inserted else { throw item.error("day \(quoted(text)) appears twice") }
            }
        }
        let fromValue = try value.required("from", in: map, hint: "the start of the window, HH:MM")
        let toValue = try value.required("to", in: map, hint: "the end of the window, HH:MM")
        let from = try clockTime(fromValue, allowEndOfDay: false)
        let to = try clockTime(toValue, allowEndOfDay: true)
        guard from != to else { throw toValue.error("the window is empty: from and to are equal") }
        let zone = try timeZone(value.required("time_zone", in: map, hint: "the zone the hours are in, such as Europe/Paris"))
        return MaintenanceWindow(weekdays: weekdays, startMinute: from, endMinute: to, timeZone: zone)
    }

    /// `YYYY-MM-DD`, a day that exists.
    static func calendarDate(_ value: YAMLValue) throws(InvalidInput) -> String {
        let text = try value.string()
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), (1...12).contains(month)
        {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            if (1...lengths[month - 1]).contains(day) { return text }
        }
        throw value.error("invalid date \(quoted(text)): expected a day that exists, as YYYY-MM-DD")
    }

    // MARK: - Across waves

    /// A wave is unreachable when an earlier `all` or `batches` wave selects every host it
    /// could select: the earlier selector's keys are a subset of its keys and, for each of
    /// them, its values a subset of the earlier's. One-per-group waves leave hosts behind.
    static func checkReachable(_ waves: [LocatedWave]) throws(InvalidInput) {
        for later in waves {
            for earlier in waves[..<later.index] {
                if case .onePerGroup = earlier.spec.strategy { continue }
                let covers = earlier.spec.selector.allSatisfy { key, values in
                    later.spec.selector[key].map { Set($0).isSubset(of: values) } ?? false
                }
                guard covers else { continue }
                let strategy = if case .all = earlier.spec.strategy { "all" } else { "batches" }
                throw later.select.error(
                    "wave \(quoted(later.spec.name)) is unreachable: wave \(quoted(earlier.spec.name)) (waves[\(earlier.index)], strategy \(strategy)) comes first and takes every host it selects"
                )
            }
        }
    }

    /// A wave that selects hosts by `role` names roles the policy defines, so that a typo
    /// cannot leave a role's hosts without their health checks.
    static func checkRoles(_ waves: [LocatedWave], roles: [String: RoleChecks]) throws(InvalidInput) {
        for wave in waves {
            guard let values = wave.spec.selector["role"], let place = wave.selectorValues["role"] else { continue }
            for (i, role) in values.enumerated() where roles[role] == nil {
                let at = place.scalarText != nil ? place : ((try? place.array())?[i] ?? place)
                let known = roles.keys.sorted()
                throw at.error(
                    "unknown role \(quoted(role)) (roles defines \(known.isEmpty ? "none" : known.joined(separator: ", "))); a role with no checks is written \(role): {} under roles"
                )
            }
        }
    }
}
