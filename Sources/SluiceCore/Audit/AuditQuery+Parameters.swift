extension AuditQuery {
    /// The query as URL query parameters of `GET /v1/audit`, in a fixed order; unset
    /// filters are left out. `init(parameters:)` reads them back.
    public var parameters: [(name: String, value: String)] {
        var out: [(String, String)] = []
        func add(_ name: String, _ value: String?) { if let value { out.append((name, value)) } }
        add("since", sinceMs.map(String.init))
        add("until", untilMs.map(String.init))
        add("rollout", rolloutID.map(String.init))
        add("host", hostID)
        add("region", region)
        add("group", group)
        add("package", package)
        add("actor", actor)
        add("kind", kind)
        add("after", afterSeq.map(String.init))
        add("through", throughSeq.map(String.init))
        add("limit", String(limit))
        add("take", take.rawValue)
        return out
    }

    /// The names `init(parameters:)` understands.
    public static let parameterNames: Set<String> = [
        "since", "until", "rollout", "host", "region", "group", "package", "actor", "kind", "after", "through", "limit", "take",
    ]

    /// Reads URL query parameters back into a validated query.
    /// - Parameter parameters: name to value; an unknown name is refused, so a typo never
    ///   silently widens the answer.
    public init(parameters: [String: String]) throws(InvalidInput) {
        if let unknown = parameters.keys.filter({ !Self.parameterNames.contains($0) }).sorted().first {
            throw InvalidInput("query: unknown parameter \(quoted(unknown)); known: \(Self.parameterNames.sorted().joined(separator: ", "))")
        }
        func integer(_ name: String) throws(InvalidInput) -> Int64? {
            guard let text = parameters[name] else { return nil }
            guard let value = Int64(text) else { throw InvalidInput("\(name): expected a whole number, not \(quoted(text))") }
            return value
        }
        self.init()
        sinceMs = try integer("since")
        untilMs = try integer("until")
        rolloutID = try integer("rollout")
        hostID = parameters["host"]
        region = parameters["region"]
        group = parameters["group"]
        package = parameters["package"]
        actor = parameters["actor"]
        kind = parameters["kind"]
        afterSeq = try integer("after")
        throughSeq = try integer("through")
        if let limit = try integer("limit") {
            guard let small = Int(exactly: limit) else { throw InvalidInput("limit: out of range") }
            self.limit = small
        }
        if let text = parameters["take"] {
            guard let take = Take(rawValue: text) else { throw InvalidInput("take: expected first or last, not \(quoted(text))") }
            self.take = take
        }
        try validate()
    }
}
