import ArgumentParser
import Foundation
import SluiceCore
import SluiceYAML

extension PolicyCommand {
    struct ImportUU: AsyncParsableCommand {
        /// YAML printed, but the file asks for something the policy does not do.
        static let notTranslatedExitCode: Int32 = 3

        static let configuration = CommandConfiguration(
            commandName: "import-uu",
            abstract: "Print the Sluice policy equivalent to an unattended-upgrades configuration (50unattended-upgrades).",
            discussion: """
                Needs no controller; changes nothing. Reads apt.conf syntax as apt does. Translates \
                Allowed-Origins and Origins-Pattern into qualify.origins, Package-Blacklist into qualify.exclude \
                and Package-Whitelist into qualify.include (their Python regular expressions as package globs), \
                and Update-Days into the waves' windows. ${distro_codename} is kept: Sluice expands it on each \
                host. ${distro_id} is not expanded by Sluice: a file that uses it needs --distro-id (repeat it \
                for a fleet of both Debian and Ubuntu hosts: each such origin is written once per distribution). \
                The waves, groups and the daily schedule are Sluice's own defaults (test environment, one host \
                per redundancy group, then the rest); adjust them to your labels.

                The policy YAML goes to standard output; every other option the file sets goes to standard error \
                (and into the YAML as comments), one line each: "not translated: OPTION = VALUE (line N): why" \
                when Sluice does not do what it asks (Automatic-Reboot "true", for one), or \
                "no equivalent needed: ...: why" when Sluice does the same or the option has no meaning for it. \
                unattended-upgrades' defaults that Sluice does not do (Remove-New-Unused-Dependencies and \
                Remove-Unused-Kernel-Packages, both "true") are reported as not translated unless the file sets \
                them "false": the files Debian and Ubuntu ship exit 3 for them.

                Exit status: 0 when the policy does everything the file asks; 3 when the YAML was printed but \
                something was not translated (read standard error); 1 when the file is unreadable or malformed, \
                or needs --distro-id, or has a Package-Whitelist none of whose items has a Sluice glob (the policy \
                would take every package): then one line names the line and what is wrong, and no YAML is printed.
                """)

        @Argument(help: "The unattended-upgrades configuration, such as /etc/apt/apt.conf.d/50unattended-upgrades.")
        var file: String

        @Option(name: .customLong("distro-id"), help: "What ${distro_id} stands for (Debian, Ubuntu); repeat for several.")
        var distroIDs: [String] = []

        @Option(help: "The name of the policy.")
        var name = "unattended-upgrades"

        @Option(help: "The time zone of the daily schedule and of the Update-Days windows (IANA name).")
        var timeZone = "UTC"

        func run() async throws {
            let options = UnattendedUpgradesImport.Options(policyName: name, distroIDs: distroIDs, timeZone: timeZone)
            let result: UnattendedUpgradesImport.Result
            do { result = try UnattendedUpgradesImport.translateFile(file, options: options) } catch {
                FileHandle.standardError.write(Data((error.message + "\n").utf8))
                throw ExitCode.failure
            }
            FileHandle.standardOutput.write(Data(result.yaml.utf8))
            let notes = result.findings.map { "\($0)\n" }.joined()
            FileHandle.standardError.write(Data(notes.utf8))
            if !result.notTranslated.isEmpty { throw ExitCode(Self.notTranslatedExitCode) }
        }
    }
}
