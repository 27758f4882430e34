import ArgumentParser
import Foundation
import SluiceCore
import SluiceYAML

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Rollout policies (YAML).", subcommands: [Check.self, ImportUU.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check policy files locally, as sluiced would load them: one line per file, errors on stderr.",
            discussion: "Needs no controller. Exits 0 only when every file is valid and their policy names are unique.")

        @Argument(help: "Policy files (YAML).") var files: [String]

        func run() async throws {
            var failed = false
            for file in files {
                do {
                    let policy = try PolicyLoader.loadFile(file)
                    print("\(file): ok: \(PolicyLoader.summary(of: policy))")
                } catch {
                    printError(error.message)
                    failed = true
                }
            }
            // Each file is valid on its own; sluiced also needs their names unique.
            if !failed && files.count > 1 {
                do { _ = try PolicyLoader.loadFiles(files) } catch {
                    printError(error.message)
                    failed = true
                }
            }
            if failed { throw ExitCode.failure }
        }

        private func printError(_ message: String) {
            FileHandle.standardError.write(Data((message + "\n").utf8))
        }
    }
}
