import Foundation
import SluiceAgent
import SluiceCore
import Testing

/// The running agent reads dpkg and apt through `sluice-agent --print-inventory` in a child
/// process: what the child prints is the report, and anything else is one clear error.
@Suite("Inventory read by a child process")
struct ChildProcessInventoryTests {
    static let report = #"""
        {"agentVersion":"0.1.0","rebootRequired":false,"rebootRequiredPackages":[],\#
        "os":{"id":"debian","versionID":"12","versionCodename":"bookworm","prettyName":"Debian GNU/Linux 12 (bookworm)"},\#
        "unattendedUpgrades":{"enabled":false,"detail":"disabled by Sluice"},\#
        "installed":[{"name":"bind9","architecture":"amd64","version":"1:9.18.24-1","status":"install ok installed"}],"candidates":[]}
        """#

    static func inventory(_ result: CommandResult) -> (ChildProcessInventory, ScriptedRunner) {
        let runner = ScriptedRunner([["/proc/self/exe", "--print-inventory"]: result])
        return (ChildProcessInventory(runner: runner), runner)
    }

    @Test func theChildsJSONIsTheReportAndItIsRunAsThisProgramWithArgv() async throws {
        let (inventory, runner) = Self.inventory(.ok(Self.report))
        let report = try await inventory.collect()
        #expect(report.installed.map(\.name.rawValue) == ["bind9"])
        #expect(report.os.versionCodename == "bookworm")
        #expect(runner.calls == [.init(executable: "/proc/self/exe", arguments: ["--print-inventory"])])
    }

    @Test func aFailedChildIsOneErrorWithItsStatusAndFirstErrorLine() async throws {
        let (inventory, _) = Self.inventory(CommandResult(status: 1, stdout: "", stderr: "Error: dpkg-query -W exited with status 2: dpkg-query: error: parsing file\nmore\n"))
        let error = await #expect(throws: CommandError.self) { try await inventory.collect() }
        #expect(error?.description == "sluice-agent --print-inventory exited with status 1: Error: dpkg-query -W exited with status 2: dpkg-query: error: parsing file")
        let (killed, _) = Self.inventory(CommandResult(status: 137))
        let signal = await #expect(throws: CommandError.self) { try await killed.collect() }
        #expect(signal?.description == "sluice-agent --print-inventory was killed by signal 9")
    }

    @Test func outputThatIsNotAValidReportIsRefusedInOneLine() async throws {
        for stdout in ["", "not json", #"{"installed":[]}"#, Self.report.replacingOccurrences(of: #""name":"bind9""#, with: #""name":"Bind 9!""#)] {
            let (inventory, _) = Self.inventory(.ok(stdout))
            do {
                _ = try await inventory.collect()
                Issue.record("accepted \(stdout.prefix(40))")
            } catch {
                let text = "\(error)"
                #expect(text.hasPrefix("sluice-agent --print-inventory printed no valid inventory report: "), "\(text)")
                #expect(!text.contains("\n"), "\(text)")
            }
        }
    }
}
