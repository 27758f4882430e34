import SluiceCore

/// A year of a fleet's audit log, made up but shaped like the real one: 2,000 hosts in 20
/// regions, one security rollout a day through test, canary and rest waves (200 hosts, each
/// reporting every apply step; about one in twenty halts on a failed canary), and between
/// them inventory reports and health changes. Deterministic for a given seed.
struct SyntheticAuditLog {
    struct Host {
        let id: String
        let region: String
        let group: String
    }

    let hosts: [Host]
    var random: SplitMix64
    /// Where each rollout's first canary ran, and its day: the benchmark's query targets.
    private(set) var samples: [(rollout: Int64, host: String, dayStartMs: Int64)] = []

    static let dayMs: Int64 = 86_400_000
    static let startMs: Int64 = 1_704_067_200_000  // 2024-01-01T00:00:00Z

    init(seed: UInt64 = 42) {
        random = SplitMix64(seed: seed)
        var hosts: [Host] = []
        let roles = [("dns-resolver", 2), ("web", 30), ("app", 50), ("db", 18)]
        for r in 0..<20 {
            let region = "region-\(r)"
            for (role, count) in roles {
                for i in 1...count { hosts.append(Host(id: "\(role)\(i).\(region)", region: region, group: "\(role)@\(region)")) }
            }
        }
        self.hosts = hosts
    }

    /// The events of one day: its rollout (number `day + 1`) and the fleet's background reports, in time order.
    mutating func day(_ day: Int) -> [AuditEvent] {
        let start = Self.startMs + Int64(day) * Self.dayMs
        var events = rollout(Int64(day + 1), startMs: start + 6 * 3_600_000)
        for _ in 0..<950 {
            let host = hosts[random.below(hosts.count)]
            let at = start + Int64(random.below(Int(Self.dayMs - 7_200_000)))
            if random.below(20) == 0 {
                // A health change is recorded only when it changes: sick, then well again within half an hour.
                events.append(
                    AuditEvent(
                        atMs: at, actor: "agent:\(host.id)", kind: "host.unhealthy", hostID: host.id, region: host.region,
                        details: #"{"detail":"unit named.service is failed","from":"healthy"}"#))
                events.append(
                    AuditEvent(
                        atMs: at + 60_000 + Int64(random.below(1_800_000)), actor: "agent:\(host.id)", kind: "host.healthy", hostID: host.id,
                        region: host.region, details: #"{"detail":"2 check(s) passed","from":"unhealthy"}"#))
            } else {
                let installed = 500 + random.below(300)
                events.append(
                    AuditEvent(
                        atMs: at, actor: "agent:\(host.id)", kind: "inventory.changed", hostID: host.id, region: host.region,
                        details: #"{"candidates":\#(random.below(6)),"candidatesAdded":["libssl3","openssl"],"candidatesRemoved":[],"installed":\#(installed),"security":1,"truncated":false}"#))
            }
        }
        // Stable: events of one instant keep the order they were made in.
        return events.enumerated().sorted { ($0.element.atMs, $0.offset) < ($1.element.atMs, $1.offset) }.map(\.element)
    }

    mutating func rollout(_ id: Int64, startMs: Int64) -> [AuditEvent] {
        let pin = "bind9=1:9.18.28-1~deb12u\(id)"
        var chosen = Set<Int>()
        while chosen.count < 200 { chosen.insert(random.below(hosts.count)) }
        let members = chosen.sorted().map { hosts[$0] }
        let waves = [("test", Array(members[0..<10])), ("canary", Array(members[10..<50])), ("rest", Array(members[50...]))]
        let halts = random.below(20) == 0
        var events = [
            AuditEvent(
                atMs: startMs, actor: "operator:alice", kind: "rollout.created", rolloutID: id, package: pin,
                details: #"{"policy":"security-updates","warnings":"0","waves":"test: 10, canary: 40, rest: 150"}"#)
        ]
        var t = startMs + 1000
        for (index, (wave, hosts)) in waves.enumerated() {
            if index > 0 {
                events.append(AuditEvent(atMs: t, actor: "operator:bob", kind: "wave.approved", rolloutID: id, wave: wave, details: #"{"from":"running"}"#))
                t += 1000
            }
            events.append(AuditEvent(atMs: t, actor: "controller", kind: "wave.started", rolloutID: id, wave: wave))
            for (n, host) in hosts.enumerated() {
                let fails = halts && wave == "canary" && n == 0
                if n == 0 && wave == "canary" { samples.append((id, host.id, startMs - 6 * 3_600_000)) }
                events += apply(rollout: id, wave: wave, host: host, assignment: id * 1000 + Int64(n), atMs: t + Int64(n) * 5000, pin: pin, fails: fails)
                if fails {
                    let down = t + Int64(n) * 5000 + 30_000
                    events.append(
                        AuditEvent(
                            atMs: down, actor: "agent:\(host.id)", kind: "host.unhealthy", hostID: host.id, region: host.region,
                            details: #"{"detail":"unit named.service is failed","from":"healthy"}"#))
                    events.append(
                        AuditEvent(
                            atMs: down + 2_400_000, actor: "agent:\(host.id)", kind: "host.healthy", hostID: host.id, region: host.region,
                            details: #"{"detail":"2 check(s) passed","from":"unhealthy"}"#))
                    events.append(
                        AuditEvent(
                            atMs: t + Int64(n) * 5000 + 45_000, actor: "controller", kind: "rollout.halted", rolloutID: id, wave: wave,
                            details: #"{"reason":"wave canary: 1 host(s) failed (\#(host.id)), budget 0"}"#))
                    return events
                }
            }
            t += Int64(hosts.count) * 5000 + 60_000
            events.append(AuditEvent(atMs: t, actor: "controller", kind: "wave.soaking", rolloutID: id, wave: wave))
            t += 1_800_000
            events.append(AuditEvent(atMs: t, actor: "controller", kind: "wave.passed", rolloutID: id, wave: wave))
            t += 1000
        }
        events.append(AuditEvent(atMs: t, actor: "controller", kind: "rollout.completed", rolloutID: id))
        return events
    }

    /// One host's apply, step by step, as the store records the agent's reports.
    func apply(rollout: Int64, wave: String, host: Host, assignment: Int64, atMs: Int64, pin: String, fails: Bool) -> [AuditEvent] {
        var events = [
            AuditEvent(
                atMs: atMs, actor: "controller", kind: "assignment.started", rolloutID: rollout, wave: wave, hostID: host.id, region: host.region,
                groupKey: host.group, details: #"{"assignment":"\#(assignment)","from":"pending","to":"started"}"#)
        ]
        var steps: [(String, String, String?)] = [
            ("started", "agent began the apply", nil), ("preflighted", "preflight passed: 1 package(s), 48 MB free", nil),
            ("saved", "saved 1 package(s) for rollback in /var/lib/sluice-agent/rollback", nil), ("held", "service restarts held by /usr/sbin/policy-rc.d", nil),
            ("installed", "installed \(pin) with restarts held", nil), ("validated", "1 validation(s) passed with the new binaries", nil),
            ("restarted", "restarted named", nil),
        ]
        steps += fails
            ? [("finished", "health check failed after restart: dns 127.0.0.1 example.org: timeout; rolled back but still unhealthy", "named[812]: /etc/bind/named.conf.options:12: option 'dnssec-enable' no longer exists")]
            : [("healthy", "2 health check(s) passed after 1 round(s)", "dns 127.0.0.1 example.org: NOERROR in 3 ms"), ("finished", "installed \(pin); healthy", nil)]
        for (i, (step, detail, output)) in steps.enumerated() {
            let outcome = step == "finished" ? (fails ? "failed" : "succeeded") : nil
            var fields = #""assignment":"\#(assignment)","detail":"\#(detail)","from":"applying","step":"\#(step)","to":"\#(step == "finished" ? outcome! : "applying")""#
            if let outcome { fields += #","outcome":"\#(outcome)""# }
            if let output { fields += #","output":"\#(output)""# }
            events.append(
                AuditEvent(
                    atMs: atMs + 2000 + Int64(i) * 4000, actor: "agent:\(host.id)", kind: "agent.\(step)", rolloutID: rollout, wave: wave,
                    hostID: host.id, region: host.region, groupKey: host.group, details: "{\(fields)}"))
        }
        return events
    }
}

extension SplitMix64 {
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
