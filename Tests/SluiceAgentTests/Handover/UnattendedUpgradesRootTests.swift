import Foundation
import Logging
import SluiceTestSupport
import Testing

@testable import SluiceAgent

/// The take-over and hand-back on real Debian roots with the real unattended-upgrades package:
/// the fleet lab's cached bookworm and trixie roots (`scripts/fleet-lab roots`, which include
/// it, as on a stock server), each through an overlay that is thrown away, so the cached root
/// is never written. The lab masks apt-daily-upgrade.timer; the overlay unmasks it, leaving it
/// enabled as apt installs it. systemctl runs in a chroot, where it changes unit enablement
/// offline but cannot start or stop anything: whether the timer runs is left to the unit
/// tests (`UnattendedUpgradesHandoverTests`); what this proves is what apt itself reads
/// (`apt-config dump`) and what systemd would start at boot (`systemctl is-enabled`).
@Suite("Taking over from unattended-upgrades in Debian roots", .serialized, .enabled(if: ChrootSupport.available, ChrootSupport.reason))
struct UnattendedUpgradesRootTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func roots() async throws -> [String] {
        try await host([repository + "/scripts/fleet-lab", "roots"]).split(separator: "\n").map(String.init)
    }

    /// What apt reads for a key, through `apt-config dump` in the root.
    static func aptConfig(_ root: String, _ key: String) async throws -> String? {
        HostFacts.aptConfigValue(key, in: try await host(["/usr/sbin/chroot", root, "apt-config", "dump"]))
    }

    static func isEnabled(_ root: String) async throws -> String {
        try await host(["/usr/sbin/chroot", root, "systemctl", "is-enabled", "apt-daily-upgrade.timer"], allowFailure: true)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The apt.conf.d files and their contents.
    static func aptConf(_ root: String) throws -> [String: String] {
        let directory = root + "/etc/apt/apt.conf.d"
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            files[name] = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        }
        return files
    }

    @Test(.timeLimit(.minutes(20)))
    func handOverAndHandBackInBookwormAndTrixieLeaveAptAndTheTimerAsTheyWere() async throws {
        let roots = try await Self.roots()
        #expect(roots.count == 2, "\(roots)")
        for lower in roots {
            let work = try TemporaryDirectory()
            defer { work.remove() }
            for name in ["upper", "work", "merged", "state"] {
                try FileManager.default.createDirectory(atPath: work.file(name), withIntermediateDirectories: true)
            }
            let root = work.file("merged")
            try await host(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=\(lower),upperdir=\(work.file("upper")),workdir=\(work.file("work"))", root])
            do {
                try await check(root: root, name: URL(fileURLWithPath: lower).lastPathComponent, state: work.file("state"))
            } catch {
                try await host(["umount", root])
                throw error
            }
            try await host(["umount", root])
        }
    }

    func check(root: String, name: String, state: String) async throws {
        // A stock server: the lab's mask removed, the timer enabled as apt's postinst left it.
        try FileManager.default.removeItem(atPath: root + "/etc/systemd/system/apt-daily-upgrade.timer")
        let key = "APT::Periodic::Unattended-Upgrade"
        let before = try Self.aptConf(root)
        #expect(before["20auto-upgrades"]?.contains("\(key) \"1\";") == true, "\(name): \(before)")
        #expect(try await Self.aptConfig(root, key) == "1", "\(name)")
        #expect(try await Self.isEnabled(root) == "enabled", "\(name)")
        let handover = UnattendedUpgradesHandover(root: HostRoot(path: root, runner: SubprocessRunner()), stateDirectory: state, logger: Logger(label: "test"))

        let record = try await handover.takeOver(now: Date())

        #expect(record.state == .takenOver, "\(name)")
        #expect(
            record.timer == .init(unit: "apt-daily-upgrade.timer", unitFileStateBefore: "enabled", activeBefore: nil, disabled: true, stopped: false),
            "\(name): \(String(describing: record.timer))")
        #expect(try await Self.aptConfig(root, key) == "0", "\(name): apt reads Sluice's override last")
        #expect(try await Self.isEnabled(root) == "disabled", "\(name)")
        var taken = try Self.aptConf(root)
        #expect(taken.removeValue(forKey: "51sluice-unattended-upgrades") == UnattendedUpgradesHandover.overrideText, "\(name)")
        #expect(taken == before, "\(name): the admin's and unattended-upgrades' own files are unchanged")
        #expect(try await handover.takeOver(now: Date()) == record, "\(name): taking over again keeps the first record")

        try await handover.handBack(reason: .command, now: Date())

        #expect(try Self.aptConf(root) == before, "\(name)")
        #expect(try await Self.aptConfig(root, key) == "1", "\(name)")
        #expect(try await Self.isEnabled(root) == "enabled", "\(name)")
        #expect(try handover.record() == nil, "\(name)")
    }
}
