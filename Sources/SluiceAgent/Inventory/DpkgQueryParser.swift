import SluiceCore

/// Reads the package list that `dpkg-query -W` prints in ``format``.
///
/// Rules, in order, for each line:
/// - an empty line is skipped;
/// - a line longer than 64 KiB, or without exactly four tab-separated fields, is an error
///   (dpkg was asked for exactly that shape, so anything else means the output cannot be trusted);
/// - a package whose status word (the third word of `${Status}`) is `not-installed` or
///   `config-files` is skipped: it has no installed version;
/// - every other state is kept with its status text, half-installed ones included, because
///   an operator must see a host with a broken package;
/// - an invalid name, architecture or version, a malformed status, or the same
///   `name:architecture` twice is an error naming the line.
///
/// Refusing instead of skipping matters: a silently dropped package is a host the controller
/// believes it knows and does not.
public enum DpkgQueryParser {
    /// The `dpkg-query` output format: package, architecture, version and status, tab separated.
    public static let format = "${Package}\t${Architecture}\t${Version}\t${Status}\n"
    /// The full argument vector for `dpkg-query`.
    public static let arguments = ["-W", "-f=" + format]
    /// Status words of packages that have no installed version.
    static let absentStates: Set<Substring> = ["not-installed", "config-files"]
    /// Status words dpkg documents (`dpkg-query(1)`); anything else is malformed output.
    static let knownStates: Set<Substring> = [
        "not-installed", "config-files", "half-installed", "unpacked", "half-configured",
        "triggers-awaited", "triggers-pending", "installed",
    ]

    /// Parses `dpkg-query -W -f=…` output.
    /// - Parameter output: the command's standard output.
    /// - Returns: the packages that have an installed version, in the order dpkg printed them.
    /// - Throws: ``InventoryParseError`` for the first line that breaks the rules above.
    public static func parse(_ output: String) throws(InventoryParseError) -> [InstalledPackage] {
        var packages: [InstalledPackage] = []
        var seen = Set<PackageKey>()
        for (number, line) in numberedLines(output) where !line.isEmpty {
            func failure(_ reason: String) -> InventoryParseError {
                InventoryParseError(source: "dpkg-query", line: number, reason: reason)
            }
            guard line.utf8.count <= maxLineLength else {
                throw failure("line is \(line.utf8.count) bytes long; the limit is \(maxLineLength)")
            }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 4 else {
                throw failure("expected 4 tab-separated fields, found \(fields.count) in \(quoted(String(line)))")
            }
            let statusWords = fields[3].split(separator: " ")
            guard statusWords.count == 3, knownStates.contains(statusWords[2]) else {
                throw failure("malformed status \(quoted(String(fields[3]))); expected \"want flag state\"")
            }
            if absentStates.contains(statusWords[2]) { continue }
            let package: InstalledPackage
            do throws(PackageSyntaxError) {
                package = InstalledPackage(
                    name: try PackageName(parsing: String(fields[0])),
                    architecture: try Architecture(parsing: String(fields[1])),
                    version: try DebianVersion(parsing: String(fields[2])),
                    status: String(fields[3])
                )
            } catch {
                throw failure(error.description)
            }
            guard seen.insert(package.key).inserted else {
                throw failure("\(package.key) is listed twice")
            }
            guard packages.count < InventoryReport.maxPackages else {
                throw failure("more than \(InventoryReport.maxPackages) installed packages")
            }
            packages.append(package)
        }
        return packages
    }
}
