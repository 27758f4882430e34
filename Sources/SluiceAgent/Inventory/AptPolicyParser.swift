import SluiceCore

/// One entry of `apt-cache policy`'s `Package files:` list: an index apt reads packages from.
public struct AptSource: Sendable, Equatable {
    /// The pin priority apt gives the source (500 by default).
    public var priority: Int
    /// apt's description of the index, the text after the priority, for example
    /// `http://deb.debian.org/debian-security bookworm-security/main amd64 Packages`,
    /// `file:/srv/repo ./ Packages` or `/var/lib/dpkg/status`. Version tables name sources by it.
    public var description: String
    /// The release fields (`o=`, `l=`, `a=`, `n=`, `c=`) and the `origin` line (site).
    public var origin: PackageOrigin
    /// The release's `v=` field, such as `12.11` or `22.04`.
    public var releaseVersion: String?
    /// The release's `b=` field, the index's architecture.
    public var indexArchitecture: String?
}

/// `apt-cache policy NAME…` for one package: its versions and where each one comes from.
public struct AptPackagePolicy: Sendable, Equatable {
    /// One row of the version table.
    public struct Version: Sendable, Equatable {
        /// The version.
        public var version: DebianVersion
        /// Whether apt marked it `***`, the installed version.
        public var isInstalled: Bool
        /// The source descriptions listed under it (see ``AptSource/description``).
        public var sources: [String]
    }

    /// The package name.
    public var name: PackageName
    /// The architecture apt printed in the header (`libc6:i386:`), for a foreign architecture.
    public var qualifier: Architecture?
    /// `Installed:`, or `nil` for `(none)`.
    public var installed: DebianVersion?
    /// `Candidate:`, or `nil` for `(none)`.
    public var candidate: DebianVersion?
    /// The version table, in apt's order.
    public var versions: [Version]

    /// `name` or `name:arch`, as apt prints it.
    public var aptName: String { qualifier.map { "\(name):\($0)" } ?? name.rawValue }

    /// The sources of `version` (matched by its exact text), or none when it is not in the table.
    public func sources(of version: DebianVersion) -> [String] {
        versions.first { $0.version.description == version.description }?.sources ?? []
    }
}

/// Reads `apt-cache policy` output.
///
/// Both forms are enrichment (they turn apt's short `Label:Version/Archive` into full origin
/// fields), so their parsers are lenient: a line they do not recognise, or whose name or
/// version is invalid, is skipped (a package whose header is invalid is skipped whole) and
/// the inventory falls back to what the `Inst` line said.
public enum AptPolicyParser {
    /// The release keys in the order apt prints them (`v=12,o=Debian,a=stable,…`).
    static let releaseKeys: [Character] = ["v", "o", "a", "n", "l", "c", "b"]

    /// Parses `apt-cache policy` without arguments: the `Package files:` list.
    /// - Parameter output: the command's standard output.
    /// - Returns: the sources in apt's order; `Pinned packages:` and what follows is ignored.
    public static func parseSources(_ output: String) -> [AptSource] {
        var sources: [AptSource] = []
        for (_, line) in numberedLines(output) where line.utf8.count <= maxLineLength {
            if line.hasPrefix("Pinned packages:") { break }
            let trimmed = line.trimmingBlanks()
            if trimmed.hasPrefix("release "), line.hasPrefix("  "), !sources.isEmpty {
                applyRelease(trimmed.dropFirst("release ".count), to: &sources[sources.count - 1])
            } else if trimmed.hasPrefix("origin "), line.hasPrefix("  "), !sources.isEmpty {
                let site = trimmed.dropFirst("origin ".count).trimmingBlanks()
                sources[sources.count - 1].origin.site = site.isEmpty ? nil : site
            } else if line.hasPrefix(" "), let (priority, description) = prioritised(trimmed) {
                sources.append(AptSource(priority: priority, description: description, origin: PackageOrigin()))
            }
        }
        return sources
    }

    /// Parses `apt-cache policy NAME…`.
    /// - Parameter output: the command's standard output.
    /// - Returns: one entry per package block whose header is a valid `name:` or `name:arch:`.
    public static func parsePackages(_ output: String) -> [AptPackagePolicy] {
        var packages: [AptPackagePolicy] = []
        var current: AptPackagePolicy?
        var inVersion = false
        for (_, line) in numberedLines(output) where line.utf8.count <= maxLineLength && !line.isEmpty {
            if line.first != " " {
                if let current { packages.append(current) }
                current = header(line)
                inVersion = false
                continue
            }
            guard var package = current else { continue }
            current = nil  // keeps `package` uniquely referenced, so appends do not copy
            let trimmed = line.trimmingBlanks()
            if line.hasPrefix("  Installed: ") {
                package.installed = version(trimmed.dropFirst("Installed: ".count))
            } else if line.hasPrefix("  Candidate: ") {
                package.candidate = version(trimmed.dropFirst("Candidate: ".count))
            } else if line.hasPrefix(" *** ") || (line.hasPrefix("     ") && !line.hasPrefix("      ")) {
                // A version row: " *** 1.0-1 100" or "     1.1-1 500 (phased 10%)".
                let installed = line.hasPrefix(" *** ")
                let token = trimmed.dropFirst(installed ? 4 : 0).split(separator: " ").first ?? ""
                inVersion = false
                if let parsed = version(token) {
                    package.versions.append(.init(version: parsed, isInstalled: installed, sources: []))
                    inVersion = true
                }
            } else if line.hasPrefix("       "), inVersion, let (_, description) = prioritised(trimmed),
                !package.versions.isEmpty
            {
                package.versions[package.versions.count - 1].sources.append(description)
            }
            current = package
        }
        if let current { packages.append(current) }
        return packages
    }

    /// Maps each source description to its origin, leaving out dpkg's status file (`a=now`),
    /// which is where installed versions come from, never an archive.
    public static func originsBySource(_ sources: [AptSource]) -> [String: PackageOrigin] {
        var map: [String: PackageOrigin] = [:]
        for source in sources where source.origin.archive != "now" && map[source.description] == nil {
            map[source.description] = source.origin
        }
        return map
    }

    /// `500 http://…` -> (500, "http://…").
    private static func prioritised(_ text: String) -> (Int, String)? {
        guard let space = text.firstIndex(of: " "), let priority = Int(text[..<space]) else { return nil }
        let description = text[space...].trimmingBlanks()
        return description.isEmpty ? nil : (priority, description)
    }

    private static func header(_ line: Substring) -> AptPackagePolicy? {
        guard line.hasSuffix(":") else { return nil }
        let token = line.dropLast()
        let colon = token.firstIndex(of: ":")
        guard let name = try? PackageName(parsing: String(token[..<(colon ?? token.endIndex)])) else { return nil }
        var qualifier: Architecture?
        if let colon {
            guard let arch = try? Architecture(parsing: String(token[token.index(after: colon)...])) else { return nil }
            qualifier = arch
        }
        return AptPackagePolicy(name: name, qualifier: qualifier, installed: nil, candidate: nil, versions: [])
    }

    private static func version(_ text: some StringProtocol) -> DebianVersion? {
        text == "(none)" ? nil : try? DebianVersion(parsing: String(text))
    }

    /// Reads `v=12,o=Debian,a=stable-security,n=bookworm-security,l=Debian-Security,c=main,b=amd64`.
    ///
    /// Values may contain commas and spaces (`l=Sluice Tools, nightly`, `o=Debian Backports`),
    /// so a value ends only where `,K=` starts with a key K that apt prints *after* the
    /// current one. Empty values are absent.
    static func applyRelease(_ text: Substring, to source: inout AptSource) {
        var rest = text
        var keyIndex = 0
        while let keyChar = rest.first, rest.dropFirst().first == "=",
            let index = releaseKeys[keyIndex...].firstIndex(of: keyChar)
        {
            rest = rest.dropFirst(2)
            let later = releaseKeys[(index + 1)...]
            var end = rest.endIndex
            var search = rest.startIndex
            while let comma = rest[search...].firstIndex(of: ",") {
                let next = rest[rest.index(after: comma)...]
                if let key = next.first, later.contains(key), next.dropFirst().first == "=" {
                    end = comma
                    break
                }
                search = rest.index(after: comma)
            }
            let value = String(rest[..<end])
            assign(value.isEmpty ? nil : value, key: keyChar, to: &source)
            rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
            keyIndex = index + 1
            if keyIndex == releaseKeys.count { break }
        }
    }

    private static func assign(_ value: String?, key: Character, to source: inout AptSource) {
        switch key {
        case "v": source.releaseVersion = value
        case "o": source.origin.origin = value
        case "a": source.origin.archive = value
        case "n": source.origin.codename = value
        case "l": source.origin.label = value
        case "c": source.origin.component = value
        default: source.indexArchitecture = value
        }
    }
}
