/// A rollback .deb saved before the install: the installed version of one package.
public struct SavedPackage: Sendable, Codable, Equatable {
    /// The package name.
    public var name: String
    /// The version the .deb holds (the one installed before the apply).
    public var version: String
    /// The .deb's path inside the root.
    public var path: String
    /// Where it came from: `apt cache`, `apt-get download` or `dpkg-repack`.
    public var source: String

    /// - Parameters:
    ///   - name: the package name.
    ///   - version: the version the .deb holds.
    ///   - path: the .deb's path inside the root.
    ///   - source: where it came from.
    public init(name: String, version: String, path: String, source: String) {
        self.name = name
        self.version = version
        self.path = path
        self.source = source
    }
}
