import ArgumentParser
import Foundation

/// The agent's footprint (issue 6, benchmark 4): the real sluice-agent (simulated package
/// backend, a fixed inventory file) against a real sluiced, idle but for its heartbeats,
/// inventory reports and assignment long-poll.
struct AgentFootprintBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent-footprint", abstract: "The real sluice-agent's RSS and CPU over a minute of heartbeats against a real sluiced.")

    @Option(help: "Seconds measured, once the agent has enrolled.") var duration = 60
    @Option(help: "The agent's heartbeat interval, such as 10s (its default).") var heartbeat = "10s"
    @Option(help: "Installed packages in the agent's inventory file.") var installed = 500
    @Option(help: "How often RSS is sampled, milliseconds.") var sampleEvery = 100
    @Option(help: "The sluice-agent to measure, such as the host build from scripts/build-agent. [default: the one beside sluice-bench]")
    var agent: String?
    @Flag(inversion: .prefixedNo, help: "HTTPS with mutual TLS between the agent and sluiced, as on a fleet (--no-tls: plain http on loopback).")
    var tls = true

    func validate() throws {
        guard duration > 0, installed >= 2, sampleEvery > 0 else { throw ValidationError("--duration, --installed and --sample-every must be positive") }
    }

    func run() async throws {
        BenchCleanup.installSignalHandlers()
        defer { BenchCleanup.shared.run() }
        say(benchmarkMachine())
        let directory = try benchTemporaryDirectory("sluice-bench-agent")
        let fleet = try BenchFleet.enroll(count: 0, in: directory, id: { "\($0)" }, labels: { _ in [:] }, inventory: nil)
        var controllerArguments: [String] = [], agentTLS: [String] = []
        if tls {
            let dir = directory + "/tls"
            let initialise = Process()
            initialise.executableURL = URL(fileURLWithPath: try benchSibling("sluiced"))
            initialise.arguments = ["tls", "init", "--dir", dir, "--name", "127.0.0.1"]
            initialise.standardOutput = FileHandle.nullDevice
            try initialise.run()
            initialise.waitUntilExit()
            guard initialise.terminationStatus == 0 else { throw ValidationError("sluiced tls init failed (status \(initialise.terminationStatus))") }
            controllerArguments = [
                "--tls-cert", dir + "/server.pem", "--tls-key", dir + "/server-key.pem", "--tls-ca", dir + "/ca.pem", "--tls-ca-key", dir + "/ca-key.pem",
                "--require-client-cert",
            ]
            agentTLS = ["--controller-ca", dir + "/ca.pem"]
        }
        let (sluiced, port) = try startSluiced(directory: directory, databasePath: fleet.databasePath, extraArguments: controllerArguments)
        try BenchInventory.json(installed: installed, variant: 0).write(toFile: directory + "/inventory.json", atomically: true, encoding: .utf8)
        let state = directory + "/agent-state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let agent = try BenchChild(
            self.agent ?? "sluice-agent",
            [
                "--controller", "\(tls ? "https" : "http")://127.0.0.1:\(port)", "--host-id", "footprint1", "--label", "environment=production", "--label", "role=app",
                "--label", "region=bench", "--state-dir", state, "--enroll-token", fleet.enrollmentToken, "--backend", "simulated",
                "--inventory-file", directory + "/inventory.json", "--heartbeat", heartbeat,
            ] + agentTLS, logPath: directory + "/agent.log")
        say("sluiced: pid \(sluiced.pid), port \(port), \(tls ? "HTTPS with mutual TLS" : "plain http"); sluice-agent: pid \(agent.pid), heartbeat \(heartbeat), inventory of \(installed) packages")

        // Measured from its enrollment (the credentials file appears) on.
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: state + "/agent-credentials.json") {
            guard agent.isRunning, Date() < deadline else { throw ValidationError("the agent did not enroll within 30 s:\n\(agent.log.suffix(4000))") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let first = ProcessSample.read(pid: agent.pid)!
        say(String(format: "enrolled: CPU %.2f s since its start, RSS %@", first.cpuSeconds, mebibytes(first.rssBytes)))
        var peak = first.rssBytes
        var samples = [first.rssBytes]
        // Idle: once the agent says its start-up is over (first heartbeat and inventory check
        // done, start-up's code pages handed back); the goal is about the agent at rest.
        var idle: [Int] = []
        var idleFrom: Duration?
        let start = ContinuousClock.now
        let end = start + .seconds(duration)
        while ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(sampleEvery))
            guard agent.isRunning, let sample = ProcessSample.read(pid: agent.pid) else {
                throw ValidationError("the agent exited during the run:\n\(agent.log.suffix(4000))")
            }
            peak = max(peak, sample.rssBytes)
            samples.append(sample.rssBytes)
            if idleFrom == nil, agent.log.contains("start-up over") { idleFrom = ContinuousClock.now - start }
            if idleFrom != nil { idle.append(sample.rssBytes) }
        }
        let last = ProcessSample.read(pid: agent.pid)!
        let cpu = ProcessSample.cpu(from: first, to: last)
        let mappings = benchMappings(pid: agent.pid)
        let rollup = MemoryRollup.read(pid: agent.pid)
        let heartbeats = agent.log.components(separatedBy: "heartbeat failed").count - 1
        agent.stop()
        sluiced.stop()
        let log = agent.log
        let reports = log.components(separatedBy: "reported ").count - 1
        say(
            String(
                format: "sluice-agent over %d s: RSS peak %@ (sampled every %d ms; VmHWM since start %@), final %@, median %@; CPU %.2f s = %.2f %% of one core",
                duration, mebibytes(peak), sampleEvery, mebibytes(last.peakRSSBytes), mebibytes(last.rssBytes), mebibytes(samples.sorted()[samples.count / 2]),
                cpu.seconds, cpu.percent))
        say("agent log: \(reports) inventory report(s), \(heartbeats) failed heartbeat(s)")
        say(
            "final RSS: \(mebibytes(last.anonymousBytes)) anonymous (heap, stacks), \(mebibytes(last.fileBytes)) mapped from files (the executable and its libraries); largest:"
        )
        for mapping in mappings.prefix(8) {
            let name = mapping.name.split(separator: "/").last.map(String.init) ?? mapping.name
            say("  \(mebibytes(mapping.rssBytes)) (\(mebibytes(mapping.privateDirtyBytes)) private dirty) \(name)")
        }
        if let rollup { say(rollup.line) }
        let files = Set(mappings.map { $0.name.split(separator: "/").last.map(String.init) ?? $0.name })
        let networking = files.filter { $0.hasPrefix("libcurl") || $0.hasPrefix("libFoundationNetworking") }.sorted()
        say("mapped files: \(files.filter { $0.contains(".so") }.count) shared libraries; libcurl/FoundationNetworking: \(networking.isEmpty ? "not mapped" : networking.joined(separator: ", "))")
        guard let idleFrom, let idlePeak = idle.max() else {
            say("goal: RSS < 15 MB: not judged (the agent never said its start-up was over)")
            BenchCleanup.shared.remove(directory: directory)
            return
        }
        say(
            String(
                format: "idle (from %.1f s after enrollment, when the agent said start-up was over; %d samples): RSS peak %@, median %@",
                Double(idleFrom.components.seconds) + Double(idleFrom.components.attoseconds) / 1e18, idle.count, mebibytes(idlePeak),
                mebibytes(idle.sorted()[idle.count / 2])))
        say("goal: idle RSS < 15 MB (read as 15 MiB): \(idlePeak < 15 << 20 ? "met" : "missed") (idle peak \(mebibytes(idlePeak)); peak since its start, VmHWM, \(mebibytes(last.peakRSSBytes)))")
        BenchCleanup.shared.remove(directory: directory)
    }
}

/// The agent's whole resident set from `/proc/PID/smaps_rollup`, split the ways that matter:
/// anonymous (heap, stacks, pages written after load: this process's own) against
/// file-backed (code and read-only data: shared with any other process mapping the same
/// files, and dropped and re-read under memory pressure rather than swapped); and Pss, which
/// charges each shared page to its sharers pro rata.
private struct MemoryRollup {
    var fields: [String: Int]

    static func read(pid: Int32) -> MemoryRollup? {
        // Read to the end: /proc files report a size of 0.
        guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/smaps_rollup") else { return nil }
        defer { try? handle.close() }
        var fields: [String: Int] = [:]
        for line in String(decoding: handle.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, parts[0].hasSuffix(":"), let kB = Int(parts[1]) else { continue }
            fields[String(parts[0].dropLast())] = kB * 1024
        }
        return fields["Rss"] == nil ? nil : MemoryRollup(fields: fields)
    }

    subscript(_ key: String) -> Int { fields[key] ?? 0 }

    /// `smaps_rollup: Rss 24.4 MiB = 3.1 MiB anonymous + 21.3 MiB file-backed (18.9 MiB of it clean); Pss 21.5 MiB (...)`.
    var line: String {
        let file = self["Rss"] - self["Anonymous"]
        let clean = self["Shared_Clean"] + self["Private_Clean"]
        return "smaps_rollup: Rss \(mebibytes(self["Rss"])) = \(mebibytes(self["Anonymous"])) anonymous + \(mebibytes(file)) file-backed"
            + " (\(mebibytes(clean)) of the whole clean, \(mebibytes(self["Shared_Clean"])) shared with other processes);"
            + " Pss \(mebibytes(self["Pss"])) (\(mebibytes(self["Pss_Anon"])) anonymous, \(mebibytes(self["Pss_File"])) file-backed)"
    }
}
