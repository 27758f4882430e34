import SluiceCore

/// One `Inst` line of `apt-get -s`: a package apt would upgrade or newly install.
public struct SimulatedInstall: Sendable, Equatable {
    /// The package name, without architecture qualifier.
    public var name: PackageName
    /// The `:arch` apt printed after the name; apt prints one only for a foreign architecture.
    public var qualifier: Architecture?
    /// The candidate version's architecture, from the closing `[arch]` (`all` for arch-independent).
    public var architecture: Architecture
    /// The version installed now, or `nil` for a new package (a new dependency).
    public var installedVersion: DebianVersion?
    /// The version apt would install.
    public var candidateVersion: DebianVersion
    /// The releases apt named for the candidate (`Label:Version/Archive`), as origins with
    /// only `label` and `archive` set (or `site` for a source without a release file).
    public var releases: [PackageOrigin]

    /// How apt names this package on its command line: `name`, or `name:arch` for a
    /// foreign architecture.
    public var aptName: String { qualifier.map { "\(name):\($0)" } ?? name.rawValue }

    /// - Parameters:
    ///   - name: the package name.
    ///   - qualifier: the `:arch` apt printed after the name, if any.
    ///   - architecture: the candidate's architecture.
    ///   - installedVersion: the installed version, `nil` for a new package.
    ///   - candidateVersion: the version apt would install.
    ///   - releases: the releases apt named for the candidate.
    public init(
        name: PackageName, qualifier: Architecture?, architecture: Architecture, installedVersion: DebianVersion?,
        candidateVersion: DebianVersion, releases: [PackageOrigin]
    ) {
        self.name = name
        self.qualifier = qualifier
        self.architecture = architecture
        self.installedVersion = installedVersion
        self.candidateVersion = candidateVersion
        self.releases = releases
    }
}

/// One `Remv` (or `Purg`) line of `apt-get -s`: a package the simulated run would remove.
public struct SimulatedRemoval: Sendable, Equatable {
    /// The package name, without architecture qualifier.
    public var name: PackageName
    /// The `:arch` apt printed after the name, for a foreign architecture.
    public var qualifier: Architecture?
    /// The version installed now, when apt printed it.
    public var installedVersion: DebianVersion?
    /// `true` for `Purg` (configuration files removed too).
    public var purge: Bool

    /// - Parameters:
    ///   - name: the package name.
    ///   - qualifier: the `:arch` apt printed after the name, if any.
    ///   - installedVersion: the installed version, if apt printed it.
    ///   - purge: whether the line was `Purg`.
    public init(name: PackageName, qualifier: Architecture?, installedVersion: DebianVersion?, purge: Bool) {
        self.name = name
        self.qualifier = qualifier
        self.installedVersion = installedVersion
        self.purge = purge
    }
}

/// What `apt-get -s dist-upgrade` would do.
public struct AptSimulation: Sendable, Equatable {
    /// Upgrades and new installs, in apt's order, each package once.
    public var installs: [SimulatedInstall]
    /// Removals, in apt's order: an operator must see what an upgrade would take away.
    public var removals: [SimulatedRemoval]

    /// - Parameters:
    ///   - installs: upgrades and new installs.
    ///   - removals: removals.
    public init(installs: [SimulatedInstall] = [], removals: [SimulatedRemoval] = []) {
        self.installs = installs
        self.removals = removals
    }
}

/// Reads `apt-get -s dist-upgrade` output, as apt's `pkgSimulate` prints it:
///
///     Inst name[:arch] [installed] (candidate Label:Version/Archive, … [arch]) [broken…]…
///     Remv name[:arch] [installed] [broken…]…
///
/// Rules: only lines whose first word is `Inst`, `Remv` or `Purg` are read; everything else
/// (`Conf` lines, headers, summaries, notes) is ignored. A line that starts so but does not
/// have that shape, or holds an invalid name, version or architecture, is an error: a
/// skipped `Inst` line would be an update nobody is told about. A package listed twice keeps
/// its first line.
public enum AptSimulationParser {
    /// The argument vector for `apt-get`: simulate, quiet, no "only a simulation" note.
    public static let arguments = [
        "-s", "-q", "-o", "APT::Get::Show-User-Simulation-Note=false", "dist-upgrade",
    ]
    static let source = "apt-get -s dist-upgrade"

    /// Parses the simulation's standard output.
    /// - Parameter output: `apt-get -s dist-upgrade` standard output (run with `LC_ALL=C.UTF-8`).
    /// - Throws: ``InventoryParseError`` for the first `Inst`/`Remv`/`Purg` line that is unreadable.
    public static func parse(_ output: String) throws(InventoryParseError) -> AptSimulation {
        var simulation = AptSimulation()
        var seenInstalls = Set<String>(), seenRemovals = Set<String>()
        for (number, line) in numberedLines(output) {
            let word = line.prefix { $0 != " " }
            let isInstall = word == "Inst", isPurge = word == "Purg"
            guard isInstall || isPurge || word == "Remv" else { continue }
            func failure(_ reason: String) -> InventoryParseError {
                InventoryParseError(source: source, line: number, reason: reason)
            }
            guard line.utf8.count <= maxLineLength else {
                throw failure("line is \(line.utf8.count) bytes long; the limit is \(maxLineLength)")
            }
            var cursor = LineCursor(text: line.dropFirst(5))
            do throws(LineCursor.Failure) {
                if isInstall {
                    let install = try parseInstall(&cursor)
                    guard seenInstalls.insert(install.aptName).inserted else { continue }
                    guard simulation.installs.count < InventoryReport.maxPackages else {
                        throw LineCursor.Failure("more than \(InventoryReport.maxPackages) packages to install")
                    }
                    simulation.installs.append(install)
                } else {
                    let removal = try parseRemoval(&cursor, purge: isPurge)
                    let key = removal.qualifier.map { "\(removal.name):\($0)" } ?? removal.name.rawValue
                    guard seenRemovals.insert(key).inserted else { continue }
                    guard simulation.removals.count < InventoryReport.maxPackages else {
                        throw LineCursor.Failure("more than \(InventoryReport.maxPackages) packages to remove")
                    }
                    simulation.removals.append(removal)
                }
            } catch {
                throw failure("unreadable \(line.prefix(4)) line \(quoted(String(line))): \(error.reason)")
            }
        }
        return simulation
    }

    private static func parseInstall(_ cursor: inout LineCursor) throws(LineCursor.Failure) -> SimulatedInstall {
        let (name, qualifier) = try cursor.packageName()
        let installed = try cursor.installedVersion()
        guard cursor.skip("(") else { throw .init("expected \"(\" before the candidate version") }
        guard let body = cursor.bodyBeforeTrailingGroups() else {
            throw .init("no \")\" closes the candidate, or text follows it")
        }
        // body: "version relstr [arch]"; relstr is empty when no release names the version.
        guard body.hasSuffix("]"), let open = body.lastIndex(of: "[") else {
            throw .init("the candidate has no [architecture]")
        }
        let architecture = try LineCursor.parse(body[body.index(after: open)..<body.index(before: body.endIndex)]) {
            (text) throws(PackageSyntaxError) in try Architecture(parsing: text)
        }
        let described = body[..<open].trimmingBlanks()
        let space = described.firstIndex(of: " ") ?? described.endIndex
        let candidate = try LineCursor.parse(described[..<space]) {
            (text) throws(PackageSyntaxError) in try DebianVersion(parsing: text)
        }
        let releases = releaseOrigins(described[space...].trimmingBlanks())
        return SimulatedInstall(
            name: name, qualifier: qualifier, architecture: architecture, installedVersion: installed,
            candidateVersion: candidate, releases: releases
        )
    }

    private static func parseRemoval(_ cursor: inout LineCursor, purge: Bool) throws(LineCursor.Failure) -> SimulatedRemoval {
        let (name, qualifier) = try cursor.packageName()
        let installed = try cursor.installedVersion()
        guard cursor.isOnlyTrailingGroups() else { throw .init("unexpected text after the package") }
        return SimulatedRemoval(name: name, qualifier: qualifier, installedVersion: installed, purge: purge)
    }

    /// Splits apt's `RelStr()` (`Label:Version/Archive, Label:Archive, site`) into origins.
    ///
    /// Entries are joined with `", "`, which a label may contain too (`Sluice Tools, nightly`):
    /// a fragment with neither `:` nor `/` is therefore glued to the next one when there is one.
    static func releaseOrigins(_ text: String) -> [PackageOrigin] {
        guard !text.isEmpty else { return [] }
        var entries: [String] = []
        var pending: String?
        for fragment in text.splitting(on: ", ") {
            let joined = pending.map { "\($0), \(fragment)" } ?? fragment
            if !joined.contains(":") && !joined.contains("/") {
                pending = joined
            } else {
                entries.append(joined)
                pending = nil
            }
        }
        if let pending { entries.append(pending) }
        var origins: [PackageOrigin] = []
        for entry in entries {
            var origin = PackageOrigin()
            var rest = Substring(entry)
            if let colon = entry.lastIndex(of: ":") {
                origin.label = String(entry[..<colon])
                rest = entry[entry.index(after: colon)...]
            }
            if let slash = rest.firstIndex(of: "/") {
                origin.archive = String(rest[rest.index(after: slash)...])
            } else if origin.label != nil || !(rest.contains(".") || rest == "localhost") {
                origin.archive = String(rest)
            } else {
                origin.site = String(rest)
            }
            if !origins.contains(origin) { origins.append(origin) }
        }
        return origins
    }
}

extension String {
    /// Splits at every occurrence of `separator` (a plain substring search, no Foundation).
    func splitting(on separator: String) -> [String] {
        var parts: [String] = []
        var rest = self[...]
        while let range = rest.firstRange(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}
