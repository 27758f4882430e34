import SluiceCore

extension PolicyLoader {
    /// The policies shipped in `policies/`, compiled into the binary at build time: what
    /// `sluiced` uses when it is given no policy directory.
    public static func embedded() throws(InvalidInput) -> [Policy] {
        var policies: [Policy] = []
        for file in EmbeddedPolicies.files {
            let policy = try load(file.text, file: "(embedded) policies/\(file.name)")
            guard !policies.contains(where: { $0.name == policy.name }) else {
                throw InvalidInput("(embedded) policies/\(file.name): policy \(quoted(policy.name)) is defined twice")
            }
            policies.append(policy)
        }
        return policies
    }
}
