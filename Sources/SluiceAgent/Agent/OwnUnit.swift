import Foundation

/// The systemd unit the agent runs in, and whether its program file was replaced while it
/// runs: a package update of the agent itself installs the new binary under the apply's
/// restart hold, and the agent restarts into it only after it reported the outcome.
public enum OwnUnit {
    /// The unit in `/proc/self/cgroup`'s text (`0::/system.slice/sluice-agent.service`): the
    /// last path component ending in `.service`, or nil outside a service.
    public static func parse(cgroup text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let last = fields[2].split(separator: "/").last, last.hasSuffix(".service") else { continue }
            return String(last)
        }
        return nil
    }

    /// The unit this process runs in, or nil (not under systemd, or not in a service).
    public static func current() -> String? {
        (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)).flatMap(parse(cgroup:))
    }

    /// Whether `/proc/self/exe`'s target says the file was replaced or removed since the
    /// process started (the kernel appends " (deleted)").
    static func isReplaced(executableLink: String) -> Bool { executableLink.hasSuffix(" (deleted)") }

    /// Whether this process's program file was replaced since it started.
    public static func executableReplaced() -> Bool {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")).map(isReplaced(executableLink:)) ?? false
    }
}
