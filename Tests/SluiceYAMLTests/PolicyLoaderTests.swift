import Foundation
import SluiceCore
import Testing

@testable import SluiceYAML

/// `/work/main/policies`, found from this file.
private let policiesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("policies").path

private func shipped(_ name: String) throws -> Policy {
    try PolicyLoader.loadFile(policiesDirectory + "/" + name)
}

@Suite("Shipped policies")
struct ShippedPolicyTests {
    @Test func everyShippedPolicyLoadsFromTheDirectory() throws {
        let policies = try PolicyLoader.loadDirectory(policiesDirectory)
        #expect(policies.map(\.name) == ["dns-resolvers", "security-updates"])
    }

    @Test func securityUpdatesGoesTestThenCanariesThenBatches() throws {
        let policy = try shipped("security-updates.yaml")
        #expect(policy.name == "security-updates")
        #expect(policy.groups == GroupRules(labels: ["role", "region"], maxUnavailable: 1))
        #expect(policy.waves.map(\.name) == ["test", "canary", "rest"])
        #expect(policy.waves.map(\.selector) == [["environment": ["test"]], ["environment": ["production"]], ["environment": ["production"]]])
        #expect(policy.waves.map(\.strategy) == [.all, .onePerGroup, .batches(size: .percent(20))])
        #expect(policy.waves.map(\.approval) == [.auto, .manual, .manual])
        #expect(policy.waves.allSatisfy { $0.soakSeconds > 0 && $0.failureBudget == 0 })
        #expect(policy.schedule == .daily(minuteOfDay: 180, timeZone: "Europe/Paris"))
        // Debian and Ubuntu security archives qualify; their regular updates and kernels do not.
        #expect(policy.qualify.admits(candidate("openssl", debianSecurity("bookworm")), codename: "bookworm"))
        #expect(policy.qualify.admits(candidate("openssl", ubuntu("noble-security")), codename: "noble"))
        #expect(!policy.qualify.admits(candidate("openssl", ubuntu("noble-updates")), codename: "noble"))
        #expect(!policy.qualify.admits(candidate("linux-image-amd64", debianSecurity("bookworm")), codename: "bookworm"))
        // Resolvers touched by this policy get bind's checks too.
        let resolver = try #require(policy.roles["dns-resolver"])
        #expect(resolver.validations == [CommandSpec(argv: ["named-checkconf", "/etc/bind/named.conf"], timeoutSeconds: 30)])
        #expect(resolver.healthChecks.contains(.systemdUnit(name: "named")))
    }

    @Test func dnsResolversIsTheBind9WorkedExample() throws {
        let policy = try shipped("dns-resolvers.yaml")
        #expect(policy.name == "dns-resolvers")
        #expect(policy.groups == GroupRules(labels: ["role", "region"], maxUnavailable: 1))
        let canary = try #require(policy.waves.first { $0.name == "canary" })
        #expect(canary.strategy == .onePerGroup)
        #expect(canary.approval == .manual)
        #expect(canary.soakSeconds == 2 * 3600)
        #expect(canary.selector == ["environment": ["production"], "role": ["dns-resolver"]])
        #expect(canary.windows == [MaintenanceWindow(weekdays: [2, 3, 4, 5], startMinute: 600, endMinute: 960, timeZone: "Europe/Paris")])
        #expect(canary.blackoutDates == ["2026-12-24", "2026-12-31"])
        #expect(policy.waves.map(\.strategy) == [.all, .onePerGroup, .batches(size: .hosts(1))])
        #expect(policy.waves[0].selector == ["environment": ["test"], "role": ["dns-resolver"]])

        let checks = try #require(policy.roles["dns-resolver"])
        #expect(checks.validations == [CommandSpec(argv: ["named-checkconf", "/etc/bind/named.conf"], timeoutSeconds: 30)])
        #expect(
            checks.healthChecks == [
                .systemdUnit(name: "named"),
                .tcp(host: "127.0.0.1", port: 53, timeoutSeconds: 2),
                .dns(server: "127.0.0.1", port: 53, name: "example.com", allowNXDomain: false, timeoutSeconds: 5),
                .command(CommandSpec(argv: ["rndc", "status"], timeoutSeconds: 10)),
            ])
        #expect(checks.preHooks == [CommandSpec(argv: ["/usr/local/sbin/dns-drain"], timeoutSeconds: 60)])
        #expect(checks.postHooks == [CommandSpec(argv: ["/usr/local/sbin/dns-undrain"], timeoutSeconds: 60)])
        #expect(checks.healthDeadlineSeconds == 120)
        #expect(policy.checks(for: try Labels(validating: ["role": "dns-resolver"])) == checks)
        #expect(policy.schedule == .onNewCandidates(debounceSeconds: 1800))

        // bind9 and its libraries from security or updates; nothing else.
        #expect(policy.qualify.admits(candidate("bind9", debianSecurity("bookworm")), codename: "bookworm"))
        #expect(policy.qualify.admits(candidate("bind9-libs", ubuntu("jammy-updates")), codename: "jammy"))
        #expect(!policy.qualify.admits(candidate("bind9", ubuntu("jammy-backports")), codename: "jammy"))
        #expect(!policy.qualify.admits(candidate("openssl", debianSecurity("bookworm")), codename: "bookworm"))
    }

    @Test func theSummaryNamesWavesStrategiesAndRoles() throws {
        #expect(
            PolicyLoader.summary(of: try shipped("dns-resolvers.yaml"))
                == "dns-resolvers: waves test (all, soak 1h) > canary (one-per-group, manual, soak 2h, 1 window)"
                + " > rest (batches of 1, soak 30m, 1 window); roles: dns-resolver; schedule: on new candidates, debounce 30m")
        let minimal = try PolicyLoader.load("name: p\nwaves: [{name: all-hosts, select: all, soak: 90m}]\n", file: "p.yaml")
        #expect(PolicyLoader.summary(of: minimal) == "p: waves all-hosts (all, soak 1h30m); roles: none; schedule: none (rollouts created by operators)")
    }
}

@Suite("Policy schema")
struct PolicySchemaTests {
    @Test func defaultsApplyWhenKeysAreLeftOut() throws {
        let policy = try PolicyLoader.load(
            """
            name: minimal
            waves:
              - name: everyone
                select: all
            roles:
              web:
                validate: [{run: [/usr/sbin/nginx, -t]}]
                health:
                  - {tcp: {host: localhost, port: 443}}
                  - {http: {url: "https://localhost/health"}}
                  - {dns: {server: 127.0.0.1, name: example.org}}
                  - {command: {run: [check-web]}}
                  - {command: {run: [check-web, --deep]}, timeout: 1m}
            """, file: "minimal.yaml")
        #expect(policy.qualify == QualifyRules())
        #expect(policy.groups == GroupRules(labels: ["role", "region"], maxUnavailable: 1))
        #expect(policy.schedule == nil)
        #expect(policy.onFailure == .halt, "hosts unhealthy after their update are left for an operator unless the policy says revert")
        #expect(policy.waves == [WaveSpec(name: "everyone", selector: [:], strategy: .all, soakSeconds: 0, approval: .auto, failureBudget: 0)])
        let web = try #require(policy.roles["web"])
        #expect(web.validations == [CommandSpec(argv: ["/usr/sbin/nginx", "-t"], timeoutSeconds: 30)])
        #expect(
            web.healthChecks == [
                .tcp(host: "localhost", port: 443, timeoutSeconds: 5),
                .http(url: "https://localhost/health", expectStatus: 200, timeoutSeconds: 5),
                .dns(server: "127.0.0.1", port: 53, name: "example.org", allowNXDomain: false, timeoutSeconds: 5),
                .command(CommandSpec(argv: ["check-web"], timeoutSeconds: 30)),
                .command(CommandSpec(argv: ["check-web", "--deep"], timeoutSeconds: 60)),
            ])
        #expect(web.healthDeadlineSeconds == 120)
    }

    @Test func everyKeyIsRead() throws {
        let policy = try PolicyLoader.load(
            """
            name: full
            qualify:
              origins:
                - {origin: Ubuntu, suite: "${distro_codename}-security", component: main}
              include: ["lib*"]
              exclude: [libfoo]
            groups: {labels: [role, region, rack], max_unavailable: 2}
            schedule: {daily: "23:30", time_zone: UTC}
            on_failure: revert
            waves:
              - name: one
                select: {environment: [staging, qa], region: eu-1}
                strategy: {batches: 3}
                soak: 1h30m
                approval: manual
                failure_budget: 2
                apply_deadline: 45m
                windows:
                  - {from: "22:00", to: "06:00", time_zone: America/New_York}
                  - {days: [Saturday, sun], from: "00:00", to: "24:00", time_zone: UTC}
                blackout_dates: ["2028-02-29"]
            roles:
              db: {}
              cache:
                health: [{unit: redis-server.service}, {dns: {server: "::1", port: 5353, name: x.test, allow_nxdomain: true}, timeout: 3s}]
                health_deadline: 10m
                pre: [{run: [drain, --now], timeout: 1h}]
                post: [{run: [undrain]}]
            """, file: "full.yaml")
        #expect(policy.qualify.origins == [OriginPattern(origin: "Ubuntu", archive: "${distro_codename}-security", component: "main")])
        #expect(policy.qualify.include == ["lib*"])
        #expect(policy.qualify.exclude == ["libfoo"])
        #expect(policy.groups == GroupRules(labels: ["role", "region", "rack"], maxUnavailable: 2))
        #expect(policy.schedule == .daily(minuteOfDay: 23 * 60 + 30, timeZone: "UTC"))
        #expect(policy.onFailure == .revert)
        let wave = policy.waves[0]
        #expect(wave.selector == ["environment": ["staging", "qa"], "region": ["eu-1"]])
        #expect(wave.strategy == .batches(size: .hosts(3)))
        #expect(wave.soakSeconds == 5400)
        #expect(wave.approval == .manual)
        #expect(wave.failureBudget == 2)
        #expect(wave.applyDeadlineSeconds == 2700)
        #expect(policy.waves.dropFirst().allSatisfy { $0.applyDeadlineSeconds == WaveSpec.defaultApplyDeadlineSeconds })
        #expect(
            wave.windows == [
                MaintenanceWindow(weekdays: Set(1...7), startMinute: 22 * 60, endMinute: 6 * 60, timeZone: "America/New_York"),
                MaintenanceWindow(weekdays: [7, 1], startMinute: 0, endMinute: 1440, timeZone: "UTC"),
            ])
        #expect(wave.blackoutDates == ["2028-02-29"])
        #expect(policy.roles["db"] == RoleChecks())
        let cache = try #require(policy.roles["cache"])
        #expect(cache.healthChecks == [.systemdUnit(name: "redis-server.service"), .dns(server: "::1", port: 5353, name: "x.test", allowNXDomain: true, timeoutSeconds: 3)])
        #expect(cache.healthDeadlineSeconds == 600)
        #expect(cache.preHooks == [CommandSpec(argv: ["drain", "--now"], timeoutSeconds: 3600)])
        #expect(cache.postHooks == [CommandSpec(argv: ["undrain"], timeoutSeconds: 30)])
    }

    @Test func aWaveAfterCanariesOfTheSameHostsIsReachable() throws {
        let policy = try PolicyLoader.load(
            """
            name: p
            waves:
              - {name: canary, select: all, strategy: one-per-group}
              - {name: rest, select: all}
            """, file: "p.yaml")
        #expect(policy.waves.map(\.strategy) == [.onePerGroup, .all])
        // A wave after "rest" is refused: "rest" takes every host first.
        #expect(throws: InvalidInput.self) { _ = try PolicyLoader.load("name: p\nwaves:\n  - {name: rest, select: all}\n  - {name: b, select: {a: b}}\n", file: "p.yaml") }
    }

    @Test func aNarrowerEarlierWaveLeavesHostsForLaterOnes() throws {
        let policy = try PolicyLoader.load(
            """
            name: p
            waves:
              - {name: eu, select: {environment: prod, region: eu-1}}
              - {name: prod, select: {environment: [prod, staging]}}
            """, file: "p.yaml")
        #expect(policy.waves.map(\.name) == ["eu", "prod"])
    }

    @Test func originPatternsExpandTheCodenameAndGlob() throws {
        let policy = try PolicyLoader.load(
            """
            name: p
            qualify:
              origins:
                - {origin: Debian, codename: "${distro_codename}-security", label: Debian-Security}
                - {origin: "Ubuntu*", archive: "*-updates"}
              include: ["bind9*", "libssl?", "lib[xy]z"]
              exclude: [bind9-doc]
            waves: [{name: all-hosts, select: all}]
            """, file: "p.yaml")
        let rules = policy.qualify
        #expect(rules.admits(candidate("bind9", debianSecurity("bookworm")), codename: "bookworm"))
        #expect(!rules.admits(candidate("bind9", debianSecurity("bookworm")), codename: "bullseye"))
        #expect(!rules.admits(candidate("bind9", debianSecurity("bookworm")), codename: nil))
        #expect(!rules.admits(candidate("bind9-doc", debianSecurity("bookworm")), codename: "bookworm"))
        #expect(rules.admits(candidate("libssl3", ubuntu("jammy-updates")), codename: "jammy"))
        #expect(rules.admits(candidate("libxz", PackageOrigin(origin: "UbuntuESM", archive: "noble-updates")), codename: "noble"))
        #expect(!rules.admits(candidate("libssl30", ubuntu("jammy-updates")), codename: "jammy"))
        #expect(!rules.admits(candidate("libwz", ubuntu("jammy-updates")), codename: "jammy"))
        #expect(!rules.admits(candidate("nginx", debianSecurity("bookworm")), codename: "bookworm"))
        #expect(!rules.admits(candidate("bind9", ubuntu("jammy-security")), codename: "jammy"))
    }
}

/// Each case: a document and the one line it must be refused with.
private let refused: [(String, String)] = [
    // Unknown keys, at every level.
    ("name: x\nwavez: []\n", #"p.yaml:2:1: unknown key "wavez" (expected one of: name, qualify, groups, schedule, waves, roles, dependencies, on_failure)"#),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    soak_time: 1h\n",
        #"p.yaml:5:5: waves[0]: unknown key "soak_time" (expected one of: name, select, strategy, soak, approval, failure_budget, windows, blackout_dates, apply_deadline)"#
    ),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    apply_deadline: 0s\n",
        #"p.yaml:5:21: waves[0].apply_deadline: must be from 1s to 1d, got "0s""#
    ),
    (
        "name: x\nqualify:\n  origins:\n    - {origin: Debian, release: x}\n",
        #"p.yaml:4:24: qualify.origins[0]: unknown key "release" (expected one of: origin, label, archive, suite, codename, component)"#
    ),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    checks: []\n",
        #"p.yaml:5:5: roles.web: unknown key "checks" (expected one of: validate, health, pre, post, health_deadline)"#
    ),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    health:\n      - {tcp: {host: h, port: 1, proto: udp}}\n",
        #"p.yaml:6:34: roles.web.health[0].tcp: unknown key "proto" (expected one of: host, port)"#
    ),
    ("name: x\nname: y\nwaves: []\n", #"p.yaml:1:1: duplicate key "name" (first given here)"#),
    (
        "name: x\non_failure: rollback\nwaves: [{name: a, select: all}]\n",
        #"p.yaml:2:13: on_failure: unknown on_failure "rollback": use halt, revert"#
    ),
    // Wrong types.
    ("name: x\nwaves: {name: a}\n", "p.yaml:2:8: waves: expected a list"),
    ("- name: x\n", "p.yaml:1:1: expected a mapping of keys to values"),
    ("name: [x]\nwaves: []\n", "p.yaml:1:7: name: expected a string"),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    failure_budget: lots\n",
        #"p.yaml:5:21: waves[0].failure_budget: expected a whole number, got "lots""#
    ),
    ("name: x\ngroups: {labels: role}\nwaves: []\n", "p.yaml:2:18: groups.labels: expected a list"),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    validate: {run: [x]}\n",
        "p.yaml:5:15: roles.web.validate: expected a list"
    ),
    // Names.
    ("name: Security Updates\nwaves: []\n", #"p.yaml:1:7: name: invalid policy name "Security Updates": use 1 to 63 characters of a-z, 0-9, '-', '_', starting with a letter or digit"#),
    ("qualify: {}\nwaves: []\n", #"p.yaml:1:1: missing key "name""#),
    // Durations.
    ("name: x\nwaves:\n  - name: a\n    select: all\n    soak: 90\n", #"p.yaml:5:11: waves[0].soak: invalid duration "90": a number needs a unit, such as 30s, 15m, 2h or 7d"#),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    health_deadline: 2 min\n",
        #"p.yaml:5:22: roles.web.health_deadline: invalid duration "2 min": unknown unit " " (use s, m, h, d or w)"#
    ),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    pre: [{run: [drain], timeout: 0s}]\n",
        #"p.yaml:5:35: roles.web.pre[0].timeout: must be from 1s to 1d, got "0s""#
    ),
    ("name: x\nschedule: {on_new_candidates: {debounce: soon}}\nwaves: []\n", #"p.yaml:2:42: schedule.on_new_candidates.debounce: invalid duration "soon": expected a number before "s""#),
    // Times, days, time zones, dates.
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    windows: [{from: \"25:00\", to: \"26:00\", time_zone: UTC}]\n",
        #"p.yaml:5:22: waves[0].windows[0].from: invalid time "25:00": expected HH:MM from 00:00 to 23:59"#
    ),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    windows: [{from: \"08:00\", to: \"8pm\", time_zone: UTC}]\n",
        #"p.yaml:5:35: waves[0].windows[0].to: invalid time "8pm": expected HH:MM from 00:00 to 24:00"#
    ),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    windows: [{days: [mon, funday], from: \"08:00\", to: \"18:00\", time_zone: UTC}]\n",
        #"p.yaml:5:28: waves[0].windows[0].days[1]: unknown day "funday" (expected mon, tue, wed, thu, fri, sat or sun)"#
    ),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    windows: [{from: \"08:00\", to: \"18:00\", time_zone: Europe/Pariss}]\n",
        #"p.yaml:5:55: waves[0].windows[0].time_zone: unknown time zone "Europe/Pariss" (use an IANA name such as Europe/Paris or UTC)"#
    ),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    windows: [{from: \"08:00\", to: \"18:00\"}]\n",
        #"p.yaml:5:15: waves[0].windows[0]: missing key "time_zone": the zone the hours are in, such as Europe/Paris"#
    ),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    windows: [{from: \"08:00\", to: \"08:00\", time_zone: UTC}]\n",
        "p.yaml:5:35: waves[0].windows[0].to: the window is empty: from and to are equal"
    ),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    blackout_dates: [2026-12-24, 2026-02-30]\n",
        #"p.yaml:5:34: waves[0].blackout_dates[1]: invalid date "2026-02-30": expected a day that exists, as YYYY-MM-DD"#
    ),
    ("name: x\nschedule: {daily: \"3am\", time_zone: UTC}\nwaves: []\n", #"p.yaml:2:19: schedule.daily: invalid time "3am": expected HH:MM from 00:00 to 23:59"#),
    ("name: x\nschedule: {daily: \"03:00\"}\nwaves: []\n", #"p.yaml:2:11: schedule: missing key "time_zone": the zone the time is in, such as Europe/Paris"#),
    ("name: x\nschedule: {daily: \"03:00\", time_zone: Mars/Olympus}\nwaves: []\n", #"p.yaml:2:39: schedule.time_zone: unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Paris or UTC)"#),
    (
        "name: x\nschedule: {daily: \"03:00\", time_zone: UTC, on_new_candidates: {}}\nwaves: []\n",
        "p.yaml:2:11: schedule: give either daily or on_new_candidates, not both"
    ),
    // Selectors.
    (
        "name: x\nwaves:\n  - name: a\n    select: {}\n",
        "p.yaml:4:13: waves[0].select: empty selector: name at least one label, or write select: all for every host"
    ),
    (
        "name: x\nwaves:\n  - name: a\n    strategy: all\n",
        #"p.yaml:3:5: waves[0]: missing key "select": a wave must select hosts by label, or say select: all"#
    ),
    (
        "name: x\nwaves:\n  - name: a\n    select: everything\n",
        "p.yaml:4:13: waves[0].select: expected a mapping of labels to values, such as {environment: test}, or all for every host"
    ),
    ("name: x\nwaves:\n  - name: a\n    select: {environment: []}\n", "p.yaml:4:27: waves[0].select.environment: list at least one value"),
    (
        "name: x\nwaves:\n  - name: a\n    select: {Environment: test}\n",
        #"p.yaml:4:14: waves[0].select: invalid label key "Environment": use 1 to 63 characters of a-z, 0-9, '_', '-', starting with a letter"#
    ),
    // Group rules, budgets, batch sizes.
    ("name: x\ngroups: {max_unavailable: 0}\nwaves: []\n", "p.yaml:2:27: groups.max_unavailable: must be at least 1, got 0"),
    ("name: x\ngroups: {labels: []}\nwaves: []\n", "p.yaml:2:18: groups.labels: list at least one label, such as [role, region]"),
    ("name: x\nwaves:\n  - name: a\n    select: all\n    failure_budget: -1\n", "p.yaml:5:21: waves[0].failure_budget: must be 0 or more, got -1"),
    ("name: x\nwaves:\n  - name: a\n    select: all\n    strategy: {batches: 0}\n", "p.yaml:5:25: waves[0].strategy.batches: batch size must be at least 1 host, got 0"),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    strategy: {batches: \"0%\"}\n",
        #"p.yaml:5:25: waves[0].strategy.batches: batch percent must be from 1% to 100%, got "0%""#
    ),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    strategy: {batches: 150%}\n",
        #"p.yaml:5:25: waves[0].strategy.batches: batch percent must be from 1% to 100%, got "150%""#
    ),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    strategy: {batches: ten}\n",
        #"p.yaml:5:25: waves[0].strategy.batches: expected a number of hosts such as 5, or a percent such as "10%", got "ten""#
    ),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    strategy: batches\n",
        #"p.yaml:5:15: waves[0].strategy: batches needs a size: {batches: 5} hosts or {batches: "10%"} of the wave"#
    ),
    (
        "name: x\nwaves:\n  - name: a\n    select: all\n    strategy: canary\n",
        #"p.yaml:5:15: waves[0].strategy: unknown strategy "canary" (expected all, one-per-group, {batches: N} or {batches: "N%"})"#
    ),
    ("name: x\nwaves:\n  - name: a\n    select: all\n    approval: yes\n", #"p.yaml:5:15: waves[0].approval: unknown approval "yes" (expected auto or manual)"#),
    // Commands.
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    validate: [{run: []}]\n",
        "p.yaml:5:22: roles.web.validate[0].run: empty command: give at least the program"
    ),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    validate: [{run: [bin/check, -q]}]\n",
        #"p.yaml:5:23: roles.web.validate[0].run[0]: program "bin/check" must be an absolute path or a bare program name looked up in PATH"#
    ),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    post: [{run: [\"/usr/sbin/nginx -t\"]}]\n",
        #"p.yaml:5:19: roles.web.post[0].run[0]: program "/usr/sbin/nginx -t" contains a space: give each argument as its own list item (commands never go through a shell)"#
    ),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    pre: [{run: \"drain --now\"}]\n",
        "p.yaml:5:17: roles.web.pre[0].run: expected a list: the program and each argument as its own item (commands never go through a shell)"
    ),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    health: [{command: {run: [\"\"]}}]\n",
        "p.yaml:5:31: roles.web.health[0].command.run[0]: the program must not be empty"
    ),
    // Waves across the list.
    (
        "name: x\nwaves:\n  - {name: a, select: {environment: test}}\n  - {name: a, select: {environment: prod}}\n",
        #"p.yaml:4:12: waves[1].name: duplicate wave name "a" (also waves[0])"#
    ),
    ("name: x\nwaves: []\n", "p.yaml:2:8: waves: a policy needs at least one wave"),
    ("name: x\n", #"p.yaml:1:1: missing key "waves""#),
    (
        "name: x\nwaves:\n" + (0...100).map { "  - {name: w\($0), select: {n: \"\($0)\"}}\n" }.joined(),
        "p.yaml:3:3: waves: 101 waves: at most 100"
    ),
    (
        "name: x\nwaves:\n  - {name: prod, select: {environment: [prod, staging]}, strategy: {batches: 2}}\n  - {name: eu, select: {environment: prod, region: eu-1}}\n",
        #"p.yaml:4:24: waves[1].select: wave "eu" is unreachable: wave "prod" (waves[0], strategy batches) comes first and takes every host it selects"#
    ),
    (
        "name: x\nwaves:\n  - {name: everyone, select: all}\n  - {name: late, select: {environment: prod}, strategy: one-per-group}\n",
        #"p.yaml:4:26: waves[1].select: wave "late" is unreachable: wave "everyone" (waves[0], strategy all) comes first and takes every host it selects"#
    ),
    // Health checks and roles.
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    health: [{ping: 127.0.0.1}]\n",
        #"p.yaml:5:15: roles.web.health[0]: unknown health check kind "ping" (expected one of: unit, command, tcp, http, dns, with an optional timeout)"#
    ),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    health: [{timeout: 5s}]\n",
        "p.yaml:5:14: roles.web.health[0]: a health check needs one kind: unit, command, tcp, http, dns"
    ),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    health: [{unit: nginx, tcp: {host: h, port: 80}}]\n",
        "p.yaml:5:28: roles.web.health[0]: a health check has one kind, got unit and tcp: write two checks"
    ),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    health: [{unit: nginx, timeout: 5s}]\n",
        "p.yaml:5:37: roles.web.health[0].timeout: a unit check takes no timeout (systemctl is-active answers at once)"
    ),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    health: [{tcp: {host: h, port: 70000}}]\n",
        "p.yaml:5:36: roles.web.health[0].tcp.port: port must be from 1 to 65535, got 70000"
    ),
    (
        "name: x\nwaves: [{name: a, select: all}]\nroles:\n  web:\n    health: [{http: {url: \"localhost/health\"}}]\n",
        #"p.yaml:5:27: roles.web.health[0].http.url: invalid URL "localhost/health": expected http://HOST[:PORT]/PATH or https://..."#
    ),
    (
        "name: x\nwaves:\n  - {name: a, select: {role: [dns-resolver, dns-resolvr]}}\nroles:\n  dns-resolver: {}\n",
        #"p.yaml:3:45: waves[0].select.role[1]: unknown role "dns-resolvr" (roles defines dns-resolver); a role with no checks is written dns-resolvr: {} under roles"#
    ),
    (
        "name: x\nwaves:\n  - {name: a, select: {role: web}}\n",
        #"p.yaml:3:30: waves[0].select.role: unknown role "web" (roles defines none); a role with no checks is written web: {} under roles"#
    ),
    // Qualify rules.
    (
        "name: x\nqualify:\n  origins:\n    - {archive: \"${codename}-security\"}\n",
        #"p.yaml:4:17: qualify.origins[0].archive: unknown variable "${codename}" (only ${distro_codename} is expanded)"#
    ),
    ("name: x\nqualify:\n  origins:\n    - {}\n", "p.yaml:4:7: qualify.origins[0]: an origin pattern needs at least one of: origin, label, archive, codename, component"),
    ("name: x\nqualify:\n  origins: []\n", "p.yaml:3:12: qualify.origins: list at least one origin pattern, or leave origins out to take security archives only"),
    (
        "name: x\nqualify:\n  exclude: [\"linux image\"]\n",
        #"p.yaml:3:13: qualify.exclude[0]: invalid package glob "linux image": a name pattern without spaces, such as "linux-image-*""#
    ),
    // Not a policy at all.
    ("", "p.yaml:1:1: the policy is empty: it needs at least a name and waves"),
    ("# nothing here\n", "p.yaml:1:1: the policy is empty: it needs at least a name and waves"),
    ("name: x\nwaves: [\n", "p.yaml:3:1: did not find expected node content"),
    ("name: x\u{1}\n", "p.yaml:1:8: control characters are not allowed"),
]

@Suite("Policy errors")
struct PolicyErrorTests {
    @Test(arguments: refused.indices)
    func isRefusedWithOneLine(_ index: Int) {
        let (text, message) = refused[index]
        #expect(throws: InvalidInput(message), "case \(index)") { try PolicyLoader.load(text, file: "p.yaml") }
    }

    @Test func aDirectoryLoadsAllOrNothing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-policies-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = "name: good\nwaves: [{name: a, select: all}]\n"
        try good.write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        try "not: yaml: at all\n".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        try "name: hidden\n".write(toFile: dir + "/.draft.yaml", atomically: true, encoding: .utf8)
        #expect(try PolicyLoader.loadDirectory(dir).map(\.name) == ["good"])

        try "name: bad\nwaves: []\n".write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)
        #expect(throws: InvalidInput("\(dir)/b.yaml:2:8: waves: a policy needs at least one wave")) { try PolicyLoader.loadDirectory(dir) }

        try good.write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)
        #expect(throws: InvalidInput("\(dir)/b.yaml:1:7: name: policy \"good\" is already defined in \(dir)/a.yaml")) {
            try PolicyLoader.loadDirectory(dir)
        }
        #expect(throws: InvalidInput("\(dir)/missing.yaml: no such file")) { try PolicyLoader.loadFile(dir + "/missing.yaml") }
    }

    /// Random damage to a shipped policy gives an error of one line naming the file, or a
    /// valid policy: never a crash.
    @Test(arguments: ["security-updates.yaml", "dns-resolvers.yaml"])
    func mutationsNeverCrash(_ name: String) throws {
        let original = try String(contentsOfFile: policiesDirectory + "/" + name, encoding: .utf8)
        var random = SplitMix64(seed: name == "security-updates.yaml" ? 0x5EED : 0xD45)
        var refusedCount = 0
        var loadedCount = 0
        for round in 0..<250 {
            var text = original
            for _ in 0..<Int.random(in: 1...3, using: &random) { text = mutate(text, using: &random) }
            do {
                let policy = try PolicyLoader.load(text, file: "fuzz.yaml")
                #expect(!policy.waves.isEmpty && Set(policy.waves.map(\.name)).count == policy.waves.count, "round \(round)")
                loadedCount += 1
            } catch {
                #expect(error.message.hasPrefix("fuzz.yaml:") && !error.message.contains("\n"), "round \(round): \(error.message)")
                #expect(error.message.wholeMatch(of: /fuzz\.yaml:\d+:\d+: .+/) != nil, "round \(round): \(error.message)")
                refusedCount += 1
            }
        }
        #expect(refusedCount > 0 && loadedCount > 0)
    }
}

// MARK: - Helpers

private func candidate(_ name: String, _ origin: PackageOrigin) -> UpgradeCandidate {
    UpgradeCandidate(
        name: try! PackageName(parsing: name), architecture: try! Architecture(parsing: "amd64"), installedVersion: DebianVersion("1.0"),
        candidateVersion: DebianVersion("1.1")!, origins: [origin])
}

private func debianSecurity(_ codename: String) -> PackageOrigin {
    PackageOrigin(origin: "Debian", label: "Debian-Security", archive: "stable-security", codename: "\(codename)-security", component: "main")
}

private func ubuntu(_ archive: String) -> PackageOrigin {
    PackageOrigin(origin: "Ubuntu", label: "Ubuntu", archive: archive, codename: String(archive.prefix { $0 != "-" }), component: "main")
}

/// One random edit: delete, duplicate or swap lines, re-indent one, or put random bytes somewhere.
private func mutate(_ text: String, using random: inout SplitMix64) -> String {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard !lines.isEmpty else { return text }
    let i = Int.random(in: 0..<lines.count, using: &random)
    let j = Int.random(in: 0..<lines.count, using: &random)
    switch Int.random(in: 0..<6, using: &random) {
    case 0: lines.remove(at: i)
    case 1: lines.insert(lines[i], at: j)
    case 2: lines.swapAt(i, j)
    case 3: lines[i] = Bool.random(using: &random) ? "  " + lines[i] : String(lines[i].drop { $0 == " " })
    default:
        var bytes = Array(text.utf8)
        let at = Int.random(in: 0...bytes.count, using: &random)
        let junk = (0..<Int.random(in: 1...4, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        if Bool.random(using: &random), at < bytes.count {
            bytes.replaceSubrange(at..<min(bytes.count, at + junk.count), with: junk)
        } else {
            bytes.insert(contentsOf: junk, at: at)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
    return lines.joined(separator: "\n")
}
