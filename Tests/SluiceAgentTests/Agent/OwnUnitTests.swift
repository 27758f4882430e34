import Foundation
@testable import SluiceAgent
import Testing

/// The agent finds the systemd unit it runs in, and whether a package update replaced its
/// program, to restart itself only after it reported.
@Suite("The agent's own unit")
struct OwnUnitTests {
    @Test("the unit is the last .service of the cgroup path, v2 or v1", arguments: [
        ("0::/system.slice/sluice-agent.service\n", "sluice-agent.service"),
        ("12:pids:/system.slice/sluice-agent.service\n1:name=systemd:/system.slice/sluice-agent.service\n0::/system.slice/sluice-agent.service\n", "sluice-agent.service"),
        ("0::/system.slice/agents.slice/fleet-agent.service\n", "fleet-agent.service"),
    ])
    func theUnitIsReadFromTheCgroupPath(cgroup: String, unit: String) {
        #expect(OwnUnit.parse(cgroup: cgroup) == unit)
    }

    @Test("outside a service (a shell, a session scope, a container's root) there is none", arguments: [
        "0::/user.slice/user-0.slice/session-3.scope\n", "0::/\n", "", "garbage",
    ])
    func noUnitOutsideAService(cgroup: String) {
        #expect(OwnUnit.parse(cgroup: cgroup) == nil)
    }

    @Test("a program file replaced while it runs is seen as replaced; one still in place is not")
    func aReplacedProgramIsSeen() throws {
        #expect(OwnUnit.isReplaced(executableLink: "/usr/sbin/sluice-agent (deleted)"))
        #expect(!OwnUnit.isReplaced(executableLink: "/usr/sbin/sluice-agent"))
        // This test process's own program is where it was.
        #expect(!OwnUnit.executableReplaced())
    }
}
