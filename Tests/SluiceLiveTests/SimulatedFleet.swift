import Foundation
import SluiceAPI
import SluiceCore

/// A controller with agents on the simulated backend, all real processes over loopback: for
/// the live tests that need a rollout's audit trail without root (the end-to-end suite with
/// real apt is the fleet lab, FleetLabScenarioTests).
enum SimulatedFleet {
    static let inventory = """
        {"agentVersion": "0.1.0", "rebootRequired": false, "rebootRequiredPackages": [],
         "os": {"id": "debian", "versionID": "12", "versionCodename": "bookworm", "prettyName": "Debian GNU/Linux 12 (bookworm)"},
         "unattendedUpgrades": {"enabled": false, "detail": "disabled by Sluice"},
         "installed": [{"name": "bind9", "architecture": "amd64", "version": "1:9.18.24-1", "status": "install ok installed"}],
         "candidates": [{"name": "bind9", "architecture": "amd64", "installedVersion": "1:9.18.24-1",
                         "candidateVersion": "1:9.18.28-1~deb12u2",
                         "origins": [{"origin": "Debian", "label": "Debian-Security", "archive": "stable-security", "codename": "bookworm-security"}]}]}
        """

    struct Fleet {
        let dir: String
        let db: String
        var url: String = ""
        var port: String = ""
        var admin: String = ""
        var controller: BackgroundProgram?
        var agents: [BackgroundProgram] = []

        func ctl(_ arguments: [String]) throws -> Finished {
            try runProgram("sluicectl", arguments, environment: ["SLUICE_CONTROLLER": url, "SLUICE_TOKEN": admin])
        }

        func status(_ id: Int64) throws -> RolloutDetail {
            let result = try ctl(["rollout", "status", String(id), "--output", "json"])
            guard result.status == 0 else { throw LiveError("rollout status failed: \(result.stderr)") }
            return try JSONDecoder().decode(RolloutDetail.self, from: Data(result.stdout.utf8))
        }

        /// Polls `condition` on the rollout until it holds (60 s at most).
        func waitFor(_ id: Int64, _ what: String, _ condition: (RolloutDetail) -> Bool) throws -> RolloutDetail {
            let deadline = Date().addingTimeInterval(60)
            var last: RolloutDetail?
            while Date() < deadline {
                let detail = try status(id)
                if condition(detail) { return detail }
                last = detail
                Thread.sleep(forTimeInterval: 0.1)
            }
            throw LiveError("timed out waiting for \(what); last status: \(String(describing: last))\ncontroller log:\n\(controller?.log ?? "")")
        }

        func sql(_ query: String) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            process.arguments = [db, query]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
