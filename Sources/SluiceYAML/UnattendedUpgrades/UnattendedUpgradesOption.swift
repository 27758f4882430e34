/// What becomes of an unattended-upgrades option that is not a list of origins or packages
/// (those are translated into `qualify`). The README's table of unattended-upgrades options
/// says the same for every option.
enum UnattendedUpgradesOption {
    enum Disposition: Equatable {
        /// Sluice does the same, or the option has no meaning for it: why.
        case noEquivalentNeeded(String)
        /// Sluice does not do this: why, and what to do instead.
        case notTranslated(String)
    }

    /// What the file sets elsewhere that changes the meaning of an option.
    struct Context {
        var automaticReboot = false
        var mail = false
    }

    static let logging = "the agent logs to the journal and the controller's audit log records every decision and result"
    static let aptStillReads = "apt still reads this file when the agent runs apt-get, as long as the file stays on the host"

    /// `key` as written (any case), `value` its last value.
    static func disposition(key: String, value: String, context: Context) -> Disposition {
        let lower = key.lowercased()
        let on = AptBoolean.parse(value)
        let prefix = "unattended-upgrade::"
        guard lower.hasPrefix(prefix) else {
            if lower.hasPrefix("apt::periodic::unattended-upgrade") {
                return .noEquivalentNeeded("the policy's schedule replaces the daily run; sluice-agent enroll turns it off on the host")
            }
            if lower.hasPrefix("apt::periodic::") {
                return .noEquivalentNeeded("apt-daily.timer keeps doing this on the host; the agent reads the package lists it refreshes")
            }
            if lower.hasPrefix("dpkg::options") {
                return .noEquivalentNeeded("\(aptStillReads); the agent itself always passes --force-confdef --force-confold (keep your conffiles)")
            }
            return .noEquivalentNeeded("not an unattended-upgrades option: \(aptStillReads)")
        }
        switch String(lower.dropFirst(prefix.count)) {
        case "devrelease":
            let why = "Sluice has no development-release rule: a rollout takes hosts by label, whatever release they run (keep development-release hosts out of the waves' select)"
            return on == false ? .notTranslated(why) : .noEquivalentNeeded(why + "; on a released distribution it changes nothing")
        case "autofixinterrupteddpkg":
            return .noEquivalentNeeded(
                "the agent resumes or rolls back its own interrupted applies from its journal, and refuses at preflight a host on which something else left dpkg interrupted, naming dpkg --configure -a")
        case "minimalsteps":
            return .noEquivalentNeeded("the agent applies one exact package set per assignment, and a stop (SIGTERM) lets an apply in progress finish first")
        case "installonshutdown":
            return ifOn(
                on, notTranslated: "Sluice applies while hosts run, inside the waves' windows; it has no install at shutdown",
                otherwise: "Sluice never installs at shutdown either")
        case "mail":
            return value.isEmpty ? .noEquivalentNeeded("empty: no mail was sent") : .notTranslated(mailWhy)
        case "sender", "mailreport", "mailonlyonerror":
            return context.mail ? .notTranslated("goes with Mail: " + mailWhy) : .noEquivalentNeeded("applies only with Mail, which is not set")
        case "remove-unused-dependencies", "remove-new-unused-dependencies", "remove-unused-kernel-packages":
            return ifOn(
                on, notTranslated: "the agent never removes packages (a set whose install would remove one is refused); run apt-get autoremove by other means",
                otherwise: "Sluice never removes packages either")
        case "automatic-reboot":
            return ifOn(
                on, notTranslated: "Sluice does not reboot hosts yet (planned: issue 18); the agent reports when a reboot is required and sluicectl hosts list warns about it",
                otherwise: "Sluice does not reboot hosts either")
        case "automatic-reboot-time", "automatic-reboot-withusers", "automatic-reboot-withsystemusers", "automatic-reboot-ignoredusers":
            return context.automaticReboot
                ? .notTranslated("goes with Automatic-Reboot, which Sluice does not do yet (planned: issue 18)")
                : .noEquivalentNeeded("applies only with Automatic-Reboot, which is off")
        case "syslogenable", "syslogfacility", "verbose", "debug":
            return .noEquivalentNeeded(logging)
        case "onlyonacpower", "skip-updates-on-metered-connections":
            return .noEquivalentNeeded("for laptops: Sluice is for servers, on mains power and unmetered networks, and checks neither")
        case "allow-downgrade":
            return ifOn(
                on, notTranslated: "Sluice installs the exact newer versions of a rollout and downgrades only to roll back or revert",
                otherwise: "Sluice downgrades only to roll back or revert")
        case "allow-apt-mark-fallback":
            return .noEquivalentNeeded("Sluice pins exact versions; apt's simulation on each host shows what they pull in before a rollout is created (the policy's dependencies rule)")
        case "keep-debs-after-install":
            return .noEquivalentNeeded("the agent keeps the .debs of the versions it replaced, for rollback and revert, for saved_package_retention")
        case "allowed-origins", "origins-pattern", "package-blacklist", "package-whitelist", "update-days":
            return .noEquivalentNeeded("a single value: unattended-upgrades reads only a list here (Key { \"...\"; };), so it ignored it too")
        default:
            return .notTranslated("an unattended-upgrades option import-uu does not know")
        }
    }

    /// An option Sluice does not do when it is on, and does not need when it is off.
    static func ifOn(_ on: Bool?, notTranslated why: String, otherwise: String) -> Disposition {
        on == true ? .notTranslated(why) : .noEquivalentNeeded(otherwise)
    }

    static let mailWhy =
        "Sluice does not mail from hosts: the controller posts alerts (failed hosts, halts, completed rollouts) to its alert_webhook (sluiced.yaml), and the audit log keeps every event"
}

/// apt's booleans (`find_b`): true, yes, on, with, enable, 1; false, no, off, without, disable, 0.
enum AptBoolean {
    static func parse(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "yes", "on", "with", "enable", "1": true
        case "false", "no", "off", "without", "disable", "0": false
        default: nil
        }
    }
}
