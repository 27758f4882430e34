import Foundation
import PackagePlugin

/// Embeds top-level folders into the binary as Swift source, so an installed program needs
/// no file beside it: `Migrations/NNNN_name.sql` into SluiceStore, and the shipped
/// `policies/*.yaml` (the embedded defaults) into SluiceYAML.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let (folder, fileExtension, mode, output) =
            target.name == "SluiceYAML"
            ? ("policies", "yaml", "--policies", "EmbeddedPolicies.swift")
            : ("Migrations", "sql", "--migrations", "EmbeddedMigrations.swift")
        let directory = context.package.directoryURL.appending(path: folder)
        let files = try FileManager.default
            .contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == fileExtension }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let outputURL = context.pluginWorkDirectoryURL.appending(path: output)
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) files of \(folder)/",
                executable: try context.tool(named: "embed-migrations").url,
                arguments: [mode, outputURL.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [outputURL]
            )
        ]
    }
}
