import Foundation
import SluiceCore

extension AgentConfiguration {
    /// The drop-in directory beside a config file: `/etc/sluice/agent.d` for
    /// `/etc/sluice/agent.yaml`. Its `*.yaml` files are read after the config file, in name
    /// order, each key replacing the same key read before. `sluice-agent enroll` writes
    /// `enrolled.yaml` there, so the packaged `agent.yaml` (a conffile) stays as shipped and a
    /// package upgrade never asks about it.
    /// - Parameter configFile: the config file's path.
    public static func dropInDirectory(for configFile: String) -> String {
        (configFile.hasSuffix(".yaml") ? String(configFile.dropLast(".yaml".count)) : configFile) + ".d"
    }

    /// Applies a config file, then its drop-in files.
    /// - Parameters:
    ///   - path: the config file.
    ///   - required: whether a missing config file is an error when there is no drop-in file
    ///     either (a host enrolled without the package has only `agent.d/enrolled.yaml`).
    /// - Throws: ``InvalidInput`` naming the file that cannot be read or is invalid.
    public mutating func apply(configFile path: String, required: Bool) throws(InvalidInput) {
        let directory = Self.dropInDirectory(for: path)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".yaml") && !$0.hasPrefix(".") }.sorted()
        if FileManager.default.fileExists(atPath: path) || (required && names.isEmpty) { try apply(file: path) }
        for name in names { try apply(file: directory + "/" + name) }
    }

    private mutating func apply(file path: String) throws(InvalidInput) {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw InvalidInput("cannot read config file \(path): \(error.localizedDescription)")
        }
        try apply(configYAML: text, file: path)
    }
}
