import Foundation
import SluiceCore

/// Turns an unattended-upgrades configuration (`/etc/apt/apt.conf.d/50unattended-upgrades`)
/// into a Sluice policy (`sluicectl policy import-uu`).
///
/// Translated: `Allowed-Origins` and `Origins-Pattern` into `qualify.origins`,
/// `Package-Blacklist` into `qualify.exclude`, `Package-Whitelist` into `qualify.include` (and,
/// unless `Package-Whitelist-Strict`, `dependencies: include-from-qualified-origins`),
/// `Update-Days` into the waves' windows. Every other option the file sets is reported, either
/// as needing no equivalent or as not translated, with the reason; nothing is dropped silently.
/// `${distro_codename}` stays as it is (Sluice expands it on each host); `${distro_id}` becomes
/// each of ``Options/distroIDs``.
public enum UnattendedUpgradesImport {
    public struct Options: Sendable {
        public var policyName: String
        /// What `${distro_id}` stands for: each pattern using it is written once per ID.
        public var distroIDs: [String]
        /// The zone of the daily schedule and of the windows `Update-Days` makes.
        public var timeZone: String

        public init(policyName: String = "unattended-upgrades", distroIDs: [String] = [], timeZone: String = "UTC") {
            self.policyName = policyName
            self.distroIDs = distroIDs
            self.timeZone = timeZone
        }
    }

    /// One option (or one list item) of the file that is not in the policy as such.
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public var option: String
        public var value: String
        public var line: Int
        public var reason: String
        /// `false`: the policy does not do what the file asked (`not translated: ...`).
        public var needsNoEquivalent: Bool

        public var description: String {
            "\(needsNoEquivalent ? "no equivalent needed" : "not translated"): \(option) = \(quoted(value, limit: 200))\(line > 0 ? " (line \(line))" : ""): \(reason)"
        }
    }

    public struct Result: Sendable {
        /// The policy, as YAML that `PolicyLoader` accepts (checked before it is returned).
        public var yaml: String
        public var policy: Policy
        public var findings: [Finding]
        /// What the policy does not do that the file asked for.
        public var notTranslated: [Finding] { findings.filter { !$0.needsNoEquivalent } }
    }

    public static func translate(_ text: String, file: String, options: Options = Options()) throws(InvalidInput) -> Result {
        guard PolicyLoader.isIdentifier(options.policyName) else {
            throw InvalidInput("--name \(quoted(options.policyName)): \(PolicyLoader.identifierRule)")
        }
        guard !options.timeZone.isEmpty, TimeZone(identifier: options.timeZone) != nil else {
            throw InvalidInput("--time-zone \(quoted(options.timeZone)): unknown time zone (use an IANA name such as Europe/Paris or UTC)")
        }
        for id in options.distroIDs where id.isEmpty || id.contains(where: { $0.isWhitespace || $0 == "," || $0 == ":" }) {
            throw InvalidInput("--distro-id \(quoted(id)): expected a distribution name as lsb_release -is prints it, such as Debian or Ubuntu")
        }
        let config = try AptConfiguration.parse(text, file: file)
        var draft = Draft(file: file, options: options)
        try draft.read(config)
        let yaml = draft.yaml()
        let policy: Policy
        do { policy = try PolicyLoader.load(yaml, file: "(imported from \(file))") } catch {
            throw InvalidInput("\(file): the policy made from it does not load (a defect of import-uu): \(error.message)")
        }
        return Result(yaml: yaml, policy: policy, findings: draft.findings)
    }

    /// Reads the file (at most 1 MiB of UTF-8) and translates it.
    public static func translateFile(_ path: String, options: Options = Options()) throws(InvalidInput) -> Result {
        try translate(PolicyLoader.readText(path), file: path, options: options)
    }

    static let uu = "Unattended-Upgrade::"

    /// What the file says, gathered for the YAML.
    struct Draft {
        let file: String
        let options: Options
        var origins: [(pattern: OriginPattern, source: String)] = []
        var exclude: [(globs: [String], source: String)] = []
        var include: [(globs: [String], source: String)] = []
        var includeDependencies = false
        var days: [String] = []
        var daysSource = ""
        var findings: [Finding] = []

        init(file: String, options: Options) {
            self.file = file
            self.options = options
        }

        mutating func notTranslated(_ entry: AptConfiguration.Entry, _ reason: String) {
            findings.append(Finding(option: entry.key, value: entry.value, line: entry.line, reason: reason, needsNoEquivalent: false))
        }

        mutating func read(_ config: AptConfiguration) throws(InvalidInput) {
            for entry in config.list(uu + "Allowed-Origins") { try addOrigins(entry, legacy: true) }
            for entry in config.list(uu + "Origins-Pattern") { try addOrigins(entry, legacy: false) }
            if origins.isEmpty {
                findings.append(
                    Finding(
                        option: uu + "Allowed-Origins", value: "", line: 0,
                        reason: "no origin is allowed (unattended-upgrades would upgrade nothing); the policy takes security archives only, Sluice's default",
                        needsNoEquivalent: false))
            }
            for entry in config.list(uu + "Package-Blacklist") {
                if let globs = packageGlobs(entry) {
                    exclude.append((globs, "line \(entry.line): \(entry.value)"))
                    continue
                }
                // A regular expression with no exact glob (one that matches only names with a
                // space or ${ matches no package): held back more widely rather than upgraded
                // against the file's wish.
                guard (try? PackageNameRegex.globs(entry.value)) == nil else { continue }
                if let wider = PackageNameRegex.widerGlob(entry.value), Self.isPackageGlob(wider) {
                    exclude.append(([wider], "line \(entry.line): \(entry.value) (no exact glob: excluded more widely)"))
                    findings[findings.count - 1].reason += "; the policy excludes \(wider) instead, which holds back at least every package it matched"
                } else {
                    findings[findings.count - 1].reason += "; packages it matched may be upgraded: add exclude globs by hand"
                }
            }
            let whitelist = config.list(uu + "Package-Whitelist")
            for entry in whitelist {
                if let globs = packageGlobs(entry) { include.append((globs, "line \(entry.line): \(entry.value)")) }
            }
            // Without include a policy takes every package: never widen a whitelist to that.
            if let first = whitelist.first, include.isEmpty {
                let why = findings.last.map { ": \($0.reason)" } ?? ""
                throw InvalidInput(
                    "\(file):\(first.line): no Package-Whitelist item could be translated (\(quoted(first.value))\(why)), and a policy without include would take every package")
            }
            let strict = config.scalar(uu + "Package-Whitelist-Strict")
            includeDependencies = !include.isEmpty && strict.flatMap { AptBoolean.parse($0.value) } != true
            let dayEntries = config.list(uu + "Update-Days")
            for entry in dayEntries {
                guard let day = Self.weekday(entry.value) else {
                    notTranslated(entry, "not a day of the week (Mon to Sun, or 0 for Sunday to 6); the waves have no windows from Update-Days")
                    days = []
                    break
                }
                if !days.contains(day) { days.append(day) }
                daysSource = "line \(entry.line)"
            }
            for include in config.includes {
                findings.append(
                    Finding(
                        option: "#include", value: include.path, line: include.line,
                        reason: "import-uu reads one file: import the included file too and merge what it says", needsNoEquivalent: false))
            }
            readOthers(config)
        }

        /// Every value not translated above, each key once with its last value (as apt keeps it).
        mutating func readOthers(_ config: AptConfiguration) {
            let handledLists = ["Allowed-Origins", "Origins-Pattern", "Package-Blacklist", "Package-Whitelist", "Update-Days"].map { (uu + $0).lowercased() }
            var context = UnattendedUpgradesOption.Context()
            context.automaticReboot = config.scalar(uu + "Automatic-Reboot").flatMap { AptBoolean.parse($0.value) } == true
            context.mail = !(config.scalar(uu + "Mail")?.value.isEmpty ?? true)
            var seen: Set<String> = []
            for entry in config.entries.reversed() {
                let key = entry.key.lowercased()
                if entry.isListItem && handledLists.contains(key) { continue }
                let id = (entry.isListItem ? "list " : "") + key
                guard seen.insert(id).inserted else { continue }
                if key == (uu + "Package-Whitelist-Strict").lowercased() && !entry.isListItem {
                    // Translated into the dependencies rule when there is a whitelist (see yaml()).
                    if include.isEmpty {
                        findings.append(
                            Finding(
                                option: entry.key, value: entry.value, line: entry.line,
                                reason: "applies only with Package-Whitelist, which is empty", needsNoEquivalent: true))
                    }
                    continue
                }
                let values = entry.isListItem ? config.list(entry.key).map(\.value).joined(separator: " ") : entry.value
                let line = entry.isListItem ? config.list(entry.key).first?.line ?? entry.line : entry.line
                switch UnattendedUpgradesOption.disposition(key: entry.key, value: values, context: context) {
                case .noEquivalentNeeded(let why):
                    findings.append(Finding(option: entry.key, value: values, line: line, reason: why, needsNoEquivalent: true))
                case .notTranslated(let why):
                    findings.append(Finding(option: entry.key, value: values, line: line, reason: why, needsNoEquivalent: false))
                }
            }
            findings.sort { $0.line < $1.line }
            // What unattended-upgrades does even where the file says nothing, and Sluice does not.
            for (option, value) in Self.defaultsSluiceDoesNotKeep where config.scalar(uu + option) == nil {
                if case .notTranslated(let why) = UnattendedUpgradesOption.disposition(key: uu + option, value: value, context: context) {
                    findings.append(
                        Finding(
                            option: uu + option, value: value, line: 0, reason: "unattended-upgrades' default, which the file keeps: " + why,
                            needsNoEquivalent: false))
                }
            }
        }

        // MARK: - Origins

        /// One `Allowed-Origins` (`origin:archive`) or `Origins-Pattern` (`key=value,...`) item.
        mutating func addOrigins(_ entry: AptConfiguration.Entry, legacy: Bool) throws(InvalidInput) {
            let usesDistroID = OriginText.uses("distro_id", in: entry.value)
            if usesDistroID && options.distroIDs.isEmpty {
                throw InvalidInput(
                    "\(file):\(entry.line): \(quoted(entry.value)) uses ${distro_id}, which a Sluice policy does not expand on each host: give --distro-id with the distributions of your hosts (Debian, Ubuntu; repeat it for both)"
                )
            }
            for id in usesDistroID ? options.distroIDs.map(Optional.some) : [nil] {
                do {
                    let fields = legacy ? try OriginText.allowedOrigin(entry.value) : try OriginText.originsPattern(entry.value)
                    let pattern = try OriginText.pattern(fields, distroID: id)
                    if !origins.contains(where: { $0.pattern == pattern }) {
                        origins.append((pattern, "line \(entry.line): \(entry.value)" + (id.map { " (${distro_id} = \($0))" } ?? "")))
                    }
                } catch {
                    notTranslated(entry, error.reason + "; the policy leaves this origin out")
                    return
                }
            }
        }

        /// The globs of one blacklist or whitelist regular expression, or a finding.
        mutating func packageGlobs(_ entry: AptConfiguration.Entry) -> [String]? {
            do {
                let globs = try PackageNameRegex.globs(entry.value)
                guard globs.allSatisfy(Self.isPackageGlob) else {
                    notTranslated(entry, "a package name never holds a space or ${, and a Sluice glob cannot")
                    return nil
                }
                return globs
            } catch {
                notTranslated(entry, "this regular expression has no Sluice glob: \(error.reason)")
                return nil
            }
        }

        /// What the policy loader takes as a package glob (never a space, never `${`).
        static func isPackageGlob(_ glob: String) -> Bool {
            !glob.contains(where: \.isWhitespace) && !glob.contains("${")
        }

        /// unattended-upgrades' defaults (its README) that matter to a translation.
        static let defaultsSluiceDoesNotKeep = [("Remove-New-Unused-Dependencies", "true"), ("Remove-Unused-Kernel-Packages", "true")]

        static func weekday(_ text: String) -> String? {
            let names = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
            let full = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
            let lower = text.lowercased()
            if let n = Int(lower), (0...6).contains(n) { return names[n] }
            if let i = names.firstIndex(of: lower) ?? full.firstIndex(of: lower) { return names[i] }
            return nil
        }
    }
}
