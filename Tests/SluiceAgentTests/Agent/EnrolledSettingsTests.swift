import Foundation
import SluiceAgent
import SluiceCore
import SluiceTestSupport
import Testing

@Suite("agent config: drop-in files and the settings enroll writes")
struct EnrolledSettingsTests {
    @Test("what enroll writes reads back as written, quotes and all, over the config file")
    func enrolledSettingsReadBackOverTheConfigFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = dir.file("agent.yaml")
        try "state_dir: /somewhere/else\nreport_interval: 30s\nlabels: {region: old}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let settings = EnrolledSettings(
            controller: "https://sluice.example.net:8460/", hostID: try HostID(parsing: "web1.fr1"),
            labels: ["region": "osc-fr1", "role": "dns-resolver", "note": "a\"b'c#d:e"], stateDirectory: dir.file("state dir: \"x\""),
            controllerCAPEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        let dropIns = AgentConfiguration.dropInDirectory(for: config)
        #expect(dropIns == dir.file("agent.d"))
        try settings.write(in: dropIns)

        var read = AgentConfiguration()
        try read.apply(configFile: config, required: true)
        #expect(read.controller == settings.controller)
        #expect(read.hostID == settings.hostID)
        #expect(read.labels == settings.labels)
        #expect(read.stateDirectory == settings.stateDirectory)
        #expect(read.reportIntervalSeconds == 30)
        #expect(read.controllerCA == dropIns + "/enrolled-ca.pem")
        #expect(try String(contentsOfFile: dropIns + "/enrolled-ca.pem", encoding: .utf8) == settings.controllerCAPEM)
        for name in ["enrolled.yaml", "enrolled-ca.pem"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: dropIns + "/" + name)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
    }

    @Test("drop-in files apply in name order after the config file; other names are ignored; a required config file may be missing only beside them")
    func dropInsApplyInNameOrder() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.file("agent.d"), withIntermediateDirectories: true)
        try "heartbeat_interval: 5s\n".write(toFile: dir.file("agent.d/20-b.yaml"), atomically: true, encoding: .utf8)
        try "heartbeat_interval: 7s\nreport_interval: 9s\n".write(toFile: dir.file("agent.d/10-a.yaml"), atomically: true, encoding: .utf8)
        try "heartbeat_interval: 1s\n".write(toFile: dir.file("agent.d/30-c.yaml.dpkg-old"), atomically: true, encoding: .utf8)

        // No config file: the drop-ins alone, required or not.
        for required in [false, true] {
            var read = AgentConfiguration()
            try read.apply(configFile: dir.file("agent.yaml"), required: required)
            #expect(read.heartbeatSeconds == 5)
            #expect(read.reportIntervalSeconds == 9)
        }
        // Neither a config file nor a drop-in: an error when required.
        var strict = AgentConfiguration()
        #expect(throws: InvalidInput.self) { try strict.apply(configFile: dir.file("other.yaml"), required: true) }
    }
}
