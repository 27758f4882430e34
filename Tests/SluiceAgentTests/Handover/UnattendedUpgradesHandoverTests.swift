import Foundation
import Logging
import SluiceAPI
import SluiceClient
import SluiceCore
import SluiceTestSupport
import Testing

@testable import SluiceAgent

/// The take-over and hand-back on a temporary root directory, with systemd played by
/// ``FakeSystemd``. (`UnattendedUpgradesRootTests` runs them on a Debian root with the real
/// unattended-upgrades package and systemctl.)
@Suite("Taking over from unattended-upgrades and handing back")
struct UnattendedUpgradesHandoverTests {
    static let autoUpgrades = "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n"
    static let unattendedConfig = "Unattended-Upgrade::Origins-Pattern { \"origin=Debian,codename=${distro_codename},label=Debian-Security\"; };\n"
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// A root with unattended-upgrades' program and the admin's apt.conf.d files, when `installed`.
    struct Host {
        let directory: TemporaryDirectory
        let systemd: FakeSystemd
        var root: String { directory.file("root") }
        var state: String { directory.file("state") }
        var handover: UnattendedUpgradesHandover {
            UnattendedUpgradesHandover(root: HostRoot(path: root, runner: systemd), stateDirectory: state, logger: Logger(label: "test"))
        }
        func file(_ inner: String) -> String? { try? String(contentsOfFile: root + inner, encoding: .utf8) }
        var override: String? { file(UnattendedUpgradesHandover.overridePath) }

        init(installed: Bool = true, unitFileState: String = "enabled", active: Bool? = true) throws {
            directory = try TemporaryDirectory()
            systemd = FakeSystemd(unitFileState: unitFileState, active: active)
            let conf = directory.file("root/etc/apt/apt.conf.d")
            try FileManager.default.createDirectory(atPath: conf, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: directory.file("root/usr/bin"), withIntermediateDirectories: true)
            if installed {
                try UnattendedUpgradesHandoverTests.autoUpgrades.write(toFile: conf + "/20auto-upgrades", atomically: true, encoding: .utf8)
                try UnattendedUpgradesHandoverTests.unattendedConfig.write(toFile: conf + "/50unattended-upgrades", atomically: true, encoding: .utf8)
                FileManager.default.createFile(atPath: directory.file("root/usr/bin/unattended-upgrade"), contents: Data("#!/usr/bin/python3\n".utf8))
            }
        }
    }

    @Test func takingOverWritesSluicesOwnOverrideDisablesAndStopsTheTimerAndRecordsWhatWasThereBefore() async throws {
        let host = try Host()
        defer { host.directory.remove() }

        let record = try await host.handover.takeOver(now: Self.start)

        #expect(host.override == UnattendedUpgradesHandover.overrideText)
        #expect(host.file("/etc/apt/apt.conf.d/20auto-upgrades") == Self.autoUpgrades, "the admin's file is never edited")
        #expect(host.file("/etc/apt/apt.conf.d/50unattended-upgrades") == Self.unattendedConfig)
        #expect(host.systemd.state == ("disabled", false))
        #expect(host.systemd.changes == ["disable apt-daily-upgrade.timer", "stop apt-daily-upgrade.timer"])
        let expected = HandoverRecord(
            state: .takenOver, takenOverAt: Self.start, overrideFile: UnattendedUpgradesHandover.overridePath,
            timer: .init(unit: "apt-daily-upgrade.timer", unitFileStateBefore: "enabled", activeBefore: true, disabled: true, stopped: true))
        #expect(record == expected)
        #expect(try host.handover.record() == expected, "the record is in the state directory")
    }

    @Test func handingBackRestoresExactlyTheRecordedStateAndRemovesTheRecord() async throws {
        let host = try Host()
        defer { host.directory.remove() }
        try await host.handover.takeOver(now: Self.start)

        let handedBack = try await host.handover.handBack(reason: .command, now: Self.start + 60)

        #expect(handedBack?.state == .takenOver)
        #expect(host.override == nil)
        #expect(host.file("/etc/apt/apt.conf.d/20auto-upgrades") == Self.autoUpgrades)
        #expect(host.systemd.state == ("enabled", true))
        #expect(host.systemd.changes.suffix(2) == ["enable apt-daily-upgrade.timer", "start apt-daily-upgrade.timer"])
        #expect(try host.handover.record() == nil)
        #expect(try host.handover.pendingHandback() == nil, "only an orphaned host's hand-back waits to be reported")
        #expect(try await host.handover.handBack(reason: .command, now: Self.start + 120) == nil, "a second hand-back has nothing to do")
    }

    @Test func aTimerTheAdminHadDisabledIsNeitherTouchedNorStartedOnHandBack() async throws {
        let host = try Host(unitFileState: "disabled", active: false)
        defer { host.directory.remove() }

        let record = try await host.handover.takeOver(now: Self.start)
        try await host.handover.handBack(reason: .command, now: Self.start + 60)

        #expect(record.timer == .init(unit: "apt-daily-upgrade.timer", unitFileStateBefore: "disabled", activeBefore: false, disabled: false, stopped: false))
        #expect(host.systemd.changes.isEmpty)
        #expect(host.systemd.state == ("disabled", false))
        #expect(host.override == nil)
    }

    @Test func aTakeOverThatFailsHalfwayIsUndoneAndSaysSo() async throws {
        let host = try Host()
        defer { host.directory.remove() }
        host.systemd.fail(["stop"])

        let error = await #expect(throws: HandoverFailure.self) { try await host.handover.takeOver(now: Self.start) }

        #expect(error?.message.contains("`systemctl stop apt-daily-upgrade.timer` failed") == true, "\(String(describing: error))")
        #expect(error?.message.hasSuffix("undone, unattended-upgrades runs as before") == true, "\(String(describing: error))")
        // Undone as a hand-back would: enabled, and started (it was active before).
        #expect(
            host.systemd.changes == [
                "disable apt-daily-upgrade.timer", "stop apt-daily-upgrade.timer", "enable apt-daily-upgrade.timer", "start apt-daily-upgrade.timer",
            ])
        #expect(host.systemd.state == ("enabled", true))
        #expect(host.override == nil)
        #expect(try host.handover.record() == nil)
    }

    @Test func takingOverAgainKeepsTheFirstStateBeforeAndPutsBackWhatWasUndoneBehindItsBack() async throws {
        let host = try Host()
        defer { host.directory.remove() }
        let first = try await host.handover.takeOver(now: Self.start)
        // Someone removes Sluice's file; the timer is (still) disabled and stopped.
        try FileManager.default.removeItem(atPath: host.root + UnattendedUpgradesHandover.overridePath)

        let second = try await host.handover.takeOver(now: Self.start + 3600)

        #expect(second == first, "the state before is the first take-over's, not the disabled timer it left")
        #expect(try host.handover.record() == first)
        #expect(host.override == UnattendedUpgradesHandover.overrideText)
        try await host.handover.handBack(reason: .command, now: Self.start + 7200)
        #expect(host.systemd.state == ("enabled", true))
    }

    @Test func aHostWithoutUnattendedUpgradesIsRecordedAsHavingNothingToTakeOver() async throws {
        let host = try Host(installed: false)
        defer { host.directory.remove() }

        let record = try await host.handover.takeOver(now: Self.start)

        #expect(record == HandoverRecord(state: .nothingToTakeOver, takenOverAt: Self.start, overrideFile: nil, timer: nil))
        #expect(try host.handover.record() == record)
        #expect(host.override == nil)
        #expect(host.systemd.changes.isEmpty)
        #expect(try await host.handover.handBack(reason: .command, now: Self.start + 60) == record)
        #expect(try host.handover.record() == nil)
        #expect(host.systemd.changes.isEmpty)
    }

    @Test func aRecordThatIsNotJSONIsRefusedNamingTheFileAndNothingChanges() async throws {
        let host = try Host()
        defer { host.directory.remove() }
        try FileManager.default.createDirectory(atPath: host.state, withIntermediateDirectories: true)
        let path = host.state + "/" + UnattendedUpgradesHandover.recordFileName
        try "garbage".write(toFile: path, atomically: true, encoding: .utf8)

        let error = await #expect(throws: HandoverFailure.self) { try await host.handover.handBack(reason: .command, now: Self.start) }

        #expect(error?.message.hasPrefix("\(path) is not a record sluice-agent wrote") == true, "\(String(describing: error))")
        #expect(host.systemd.changes.isEmpty)
        #expect(FileManager.default.fileExists(atPath: path))
    }
}

/// What the running agent does after each exchange with its controller, on an injected clock.
@Suite("The agent keeps the take-over, and hands back when revoked or orphaned")
struct HandoverKeeperTests {
    typealias Host = UnattendedUpgradesHandoverTests.Host
    static let start = UnattendedUpgradesHandoverTests.start
    static let week: Int64 = 7 * 86400
    static let unreachable = ClientError.unreachable("cannot reach the controller at https://controller:8460: connection refused")

    func keeper(_ host: Host, now: Date) -> HandoverKeeper {
        HandoverKeeper(handover: host.handover, orphanAfterSeconds: Self.week, logger: Logger(label: "test"), now: now)
    }

    @Test func theFirstAnswerAfterStartTakesOverAndLaterOnesRunNothing() async throws {
        let host = try Host()
        defer { host.directory.remove() }
        var keeper = keeper(host, now: Self.start)

        let first = await keeper.reached(now: Self.start + 1)
        #expect(first?.handback == nil, "no hand-back to log")
        #expect(try host.handover.record()?.state == .takenOver)
        let changes = host.systemd.changes
        let second = await keeper.reached(now: Self.start + 61)
        #expect(second?.handback == nil)
        #expect(host.systemd.changes == changes, "no systemctl on every report")
    }

    @Test func aRevokedHostIsHandedBackAtOnce() async throws {
        let host = try Host()
        defer { host.directory.remove() }
        var keeper = keeper(host, now: Self.start)
        _ = await keeper.reached(now: Self.start)

        let reason = await keeper.failed(
            ClientError.api(status: 401, code: APIErrorCode.hostRevoked, message: "host dns1 has been revoked"), now: Self.start + 10)

        #expect(reason == .revoked)
        #expect(host.override == nil && host.systemd.state == ("enabled", true))
        #expect(try host.handover.record() == nil)
    }

    @Test func anotherRefusalIsNotARevocation() async throws {
        let host = try Host()
        defer { host.directory.remove() }
        var keeper = keeper(host, now: Self.start)
        _ = await keeper.reached(now: Self.start)

        let reason = await keeper.failed(ClientError.api(status: 401, code: "unauthenticated", message: "unknown or wrong token"), now: Self.start + 10)

        #expect(reason == nil)
        #expect(host.override == UnattendedUpgradesHandover.overrideText)
    }

    @Test func aControllerUnreachableForOrphanAfterHandsBackThenItsReturnTakesOverAgain() async throws {
        let host = try Host()
        defer { host.directory.remove() }
        var keeper = keeper(host, now: Self.start)
        _ = await keeper.reached(now: Self.start)
        let first = try #require(try host.handover.record())

        #expect(await keeper.failed(Self.unreachable, now: Self.start + TimeInterval(Self.week - 1)) == nil)
        #expect(host.override != nil, "still taken over a second before orphan_after")
        #expect(await keeper.failed(Self.unreachable, now: Self.start + TimeInterval(Self.week)) == .orphaned)
        #expect(host.override == nil && host.systemd.state == ("enabled", true))
        let note = try #require(try host.handover.pendingHandback())
        #expect(note.reason == .orphaned && note.handedBackAt == Self.start + TimeInterval(Self.week))
        #expect(await keeper.failed(Self.unreachable, now: Self.start + TimeInterval(Self.week + 600)) == nil, "handed back once")

        let back = Self.start + TimeInterval(Self.week + 3600)
        let reported = await keeper.reached(now: back)

        #expect(reported?.handback == note)
        #expect(reported?.takeover.takenOverAt == back && reported?.takeover.timer == first.timer)
        #expect(host.override == UnattendedUpgradesHandover.overrideText && host.systemd.state == ("disabled", false))
        let again = await keeper.reached(now: back + 60)
        #expect(again?.handback == note, "kept until the agent has reported it")
        host.handover.forgetHandback()
        #expect(try host.handover.pendingHandback() == nil)
    }

    @Test func orphanAfterDefaultsToAWeekIsReadFromTheConfigAndOutOfRangeIsRefusedNamingTheKey() throws {
        var configuration = AgentConfiguration()
        #expect(configuration.orphanAfterSeconds == Self.week)
        try configuration.apply(configYAML: "orphan_after: 2d\n", file: "agent.yaml")
        #expect(configuration.orphanAfterSeconds == 2 * 86400)

        let error = #expect(throws: InvalidInput.self) { try configuration.apply(configYAML: "orphan_after: 10s\n", file: "agent.yaml") }

        #expect(error?.message.contains("orphan_after") == true && error?.message.contains("must be between 1m and 365d") == true, "\(String(describing: error))")
        #expect(configuration.orphanAfterSeconds == 2 * 86400)
    }

    @Test func theLastAnswerSurvivesARestartSoAnOutageIsNotCountedFromTheRestart() async throws {
        let host = try Host()
        defer { host.directory.remove() }
        var before = keeper(host, now: Self.start)
        _ = await before.reached(now: Self.start)

        let restarted = keeper(host, now: Self.start + TimeInterval(Self.week - 60))

        #expect(await restarted.failed(Self.unreachable, now: Self.start + TimeInterval(Self.week)) == .orphaned)
    }
}
