import Foundation
import SluiceCore

/// What `sluice-agent enroll` leaves for the agent to read: `enrolled.yaml` in the config's
/// drop-in directory (controller, its CA, host id, labels, state directory) and a copy of the
/// controller's CA beside it. Not a package's conffile: dpkg never asks about it, and the
/// packaged `agent.yaml`, read first, stays as shipped.
public struct EnrolledSettings: Sendable, Equatable {
    public static let fileName = "enrolled.yaml"
    public static let caFileName = "enrolled-ca.pem"

    public var controller: String
    public var hostID: HostID
    public var labels: [String: String]
    public var stateDirectory: String
    /// The controller's CA (PEM text), or `nil` to trust the system's store.
    public var controllerCAPEM: String?

    /// - Parameters:
    ///   - controller: the controller's URL.
    ///   - hostID: the id the host enrolled as.
    ///   - labels: the labels it enrolled with.
    ///   - stateDirectory: where its credentials are.
    ///   - controllerCAPEM: the controller's CA, or `nil`.
    public init(controller: String, hostID: HostID, labels: [String: String], stateDirectory: String, controllerCAPEM: String?) {
        self.controller = controller
        self.hostID = hostID
        self.labels = labels
        self.stateDirectory = stateDirectory
        self.controllerCAPEM = controllerCAPEM
    }

    /// The YAML text, every value a double-quoted scalar (JSON's string syntax, which YAML reads).
    /// - Parameter caPath: where the CA copy is, when there is one.
    public func yaml(caPath: String?) -> String {
        var lines = ["# Written by `sluice-agent enroll`; read after the config file. Enroll again to change it."]
        lines.append("controller: \(Self.scalar(controller))")
        if let caPath { lines.append("controller_ca: \(Self.scalar(caPath))") }
        lines.append("host_id: \(Self.scalar(hostID.rawValue))")
        let pairs = labels.sorted { $0.key < $1.key }.map { "\(Self.scalar($0.key)): \(Self.scalar($0.value))" }
        lines.append("labels: {\(pairs.joined(separator: ", "))}")
        lines.append("state_dir: \(Self.scalar(stateDirectory))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the CA copy, then the YAML file, each atomically with mode 0600, creating the
    /// directory (0755) if need be.
    /// - Parameter directory: the drop-in directory.
    /// - Throws: ``InvalidInput`` naming the file that could not be written; nothing is left then.
    public func write(in directory: String) throws(InvalidInput) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw InvalidInput("cannot create \(directory): \(error.localizedDescription)")
        }
        let caPath = directory + "/" + Self.caFileName
        do {
            if let controllerCAPEM { try writeFileAtomically(controllerCAPEM, to: caPath, mode: 0o600) }
            try writeFileAtomically(yaml(caPath: controllerCAPEM == nil ? nil : caPath), to: directory + "/" + Self.fileName, mode: 0o600)
        } catch {
            Self.remove(from: directory)
            throw error
        }
    }

    /// Removes what ``write(in:)`` writes.
    /// - Parameter directory: the drop-in directory.
    public static func remove(from directory: String) {
        for name in [fileName, caFileName] { unlink(directory + "/" + name) }
    }

    private static func scalar(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? encoder.encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }
}
