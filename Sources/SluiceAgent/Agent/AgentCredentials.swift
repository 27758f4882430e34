import CoreFoundation
import Foundation
import SluiceClient
import SluiceCore

/// The agent's own secret from enrollment, kept in the state directory with mode 0600.
public struct AgentCredentials: Sendable, Codable, Equatable {
    public var controller: String
    public var hostID: HostID
    public var token: String
    /// Mutual TLS: the client certificate the controller signed at enrollment, and the key
    /// made on this host for it (PEM). Absent when the controller does not sign them.
    public var clientCertificate: String?
    public var clientKey: String?

    public init(controller: String, hostID: HostID, token: String, clientCertificate: String? = nil, clientKey: String? = nil) {
        self.controller = controller
        self.hostID = hostID
        self.token = token
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
    }

    /// How to reach the controller: its CA, and this host's client certificate if it has one.
    public func tls(controllerCA: String?) -> ClientTLS {
        ClientTLS(caFile: controllerCA, certificatePEM: clientCertificate, keyPEM: clientKey)
    }

    public static func path(in stateDirectory: String) -> String { stateDirectory + "/agent-credentials.json" }

    /// Reads the saved credentials, or `nil` when the agent has not enrolled yet.
    /// Refuses a file that others can read: the secret authenticates as this host.
    public static func load(stateDirectory: String) throws(InvalidInput) -> AgentCredentials? {
        let path = path(in: stateDirectory)
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw InvalidInput("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw InvalidInput("\(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 on it")
        }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return try JSONDecoder().decode(AgentCredentials.self, from: data)
        } catch {
            throw InvalidInput("cannot read \(path): \(error)")
        }
    }

    /// Writes the file atomically: a 0600 temporary file, fsync, rename, fsync of the directory.
    public func save(stateDirectory: String) throws(InvalidInput) {
        let path = Self.path(in: stateDirectory)
        do {
            try FileManager.default.createDirectory(
                atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw InvalidInput("cannot create \(stateDirectory): \(error.localizedDescription)")
        }
        let data: Data
        do { data = try JSONEncoder().encode(self) } catch { throw InvalidInput("cannot encode credentials: \(error)") }
        let temporary = path + ".tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw InvalidInput("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw InvalidInput("cannot write \(path): \(reason)")
        }
        let dir = open(stateDirectory, O_RDONLY | O_DIRECTORY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}
