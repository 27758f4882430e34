import SluiceCore

extension PolicyLoader {
    static let roleKeys = ["validate", "health", "pre", "post", "health_deadline"]
    static let healthKinds = ["unit", "command", "tcp", "http", "dns"]
    /// Health probes (TCP, HTTP, DNS) give up after this long unless told otherwise.
    static let defaultProbeTimeoutSeconds = 5

    /// `roles:` role name (the value of the host's `role` label) to its checks.
    static func roleTable(_ value: YAMLValue) throws(InvalidInput) -> [String: RoleChecks] {
        var roles: [String: RoleChecks] = [:]
        for (name, keyValue, item) in try value.entries() {
            do { _ = try Labels(validating: ["role": name]) } catch {
                throw keyValue.error("invalid role name \(quoted(name)): it is a value of the role label (no spaces, '=' or ',')")
            }
            roles[name] = try roleChecks(item)
        }
        return roles
    }

    static func roleChecks(_ value: YAMLValue) throws(InvalidInput) -> RoleChecks {
        let map = try value.mapping(allowed: roleKeys)
        var checks = RoleChecks()
        if let list = map["validate"] { checks.validations = try commandList(list) }
        if let list = map["health"] {
            for item in try list.array() { checks.healthChecks.append(try healthCheck(item)) }
        }
        if let list = map["pre"] { checks.preHooks = try commandList(list) }
        if let list = map["post"] { checks.postHooks = try commandList(list) }
        if let deadline = map["health_deadline"] { checks.healthDeadlineSeconds = try timeout(deadline) }
        return checks
    }

    // MARK: - Commands

    static func commandList(_ value: YAMLValue) throws(InvalidInput) -> [CommandSpec] {
        var commands: [CommandSpec] = []
        for item in try value.array() { commands.append(try command(item)) }
        return commands
    }

    /// `{run: [program, arg...], timeout: 30s}`.
    static func command(_ value: YAMLValue, outerTimeout: YAMLValue? = nil) throws(InvalidInput) -> CommandSpec {
        let map = try value.mapping(allowed: ["run", "timeout"])
        let run = try value.required("run", in: map, hint: "the program and its arguments, such as [named-checkconf, /etc/bind/named.conf]")
        if run.scalarText != nil {
            throw run.error("expected a list: the program and each argument as its own item (commands never go through a shell)")
        }
        let items = try run.array()
        guard let first = items.first else { throw run.error("empty command: give at least the program") }
        var argv: [String] = []
        for item in items {
            let argument = try item.string()
            guard !argument.unicodeScalars.contains("\0") else { throw item.error("arguments must not contain NUL characters") }
            argv.append(argument)
        }
        let program = argv[0]
        guard !program.isEmpty else { throw first.error("the program must not be empty") }
        if program.contains(where: \.isWhitespace) {
            throw first.error(
                "program \(quoted(program)) contains a space: give each argument as its own list item (commands never go through a shell)")
        }
        if program.contains("/") && !program.hasPrefix("/") {
            throw first.error("program \(quoted(program)) must be an absolute path or a bare program name looked up in PATH")
        }
        if let inner = map["timeout"], outerTimeout != nil {
            throw inner.error("timeout is given twice: keep the one inside command")
        }
        let seconds = try (map["timeout"] ?? outerTimeout).map(timeout) ?? 30
        return CommandSpec(argv: argv, timeoutSeconds: seconds)
    }

    /// The longest `soak` or `debounce`: longer is a mistake, and the controller counts
    /// them in milliseconds, which a duration near `Int64.max` seconds would overflow.
    public static let maxSoakSeconds: Int64 = 30 * 86400

    /// A soak or debounce: from 0 seconds to 30 days.
    static func soakDuration(_ value: YAMLValue) throws(InvalidInput) -> Int64 {
        let seconds = try value.seconds()
        guard (0...maxSoakSeconds).contains(seconds) else { throw value.error("must be from 0s to 30d, got \(quoted(try value.string()))") }
        return seconds
    }

    /// A timeout or deadline: from 1 second to 1 day.
    static func timeout(_ value: YAMLValue) throws(InvalidInput) -> Int {
        let seconds = try value.seconds()
        guard (1...86400).contains(seconds) else { throw value.error("must be from 1s to 1d, got \(quoted(try value.string()))") }
        return Int(seconds)
    }

    // MARK: - Health checks

    /// One kind key (`unit`, `command`, `tcp`, `http`, `dns`) and, but for `unit`, an optional `timeout`.
    static func healthCheck(_ value: YAMLValue) throws(InvalidInput) -> HealthCheck {
        var kinds: [(String, YAMLValue, YAMLValue)] = []
        var timeoutValue: YAMLValue?
        for (key, keyValue, item) in try value.entries() {
            if key == "timeout" {
                timeoutValue = item
            } else if healthKinds.contains(key) {
                kinds.append((key, keyValue, item))
            } else {
                throw keyValue.error(
                    "unknown health check kind \(quoted(key)) (expected one of: \(healthKinds.joined(separator: ", ")), with an optional timeout)")
            }
        }
        guard let (kind, _, spec) = kinds.first else {
            throw value.error("a health check needs one kind: \(healthKinds.joined(separator: ", "))")
        }
        if kinds.count > 1 {
            throw kinds[1].1.error("a health check has one kind, got \(kind) and \(kinds[1].0): write two checks")
        }
        func probeTimeout() throws(InvalidInput) -> Int {
            try timeoutValue.map(timeout) ?? defaultProbeTimeoutSeconds
        }
        switch kind {
        case "unit":
            if let timeoutValue { throw timeoutValue.error("a unit check takes no timeout (systemctl is-active answers at once)") }
            let name = try spec.string()
            guard !name.isEmpty, !name.hasPrefix("-"), !name.contains(where: \.isWhitespace), !name.unicodeScalars.contains("\0") else {
                throw spec.error("invalid unit name \(quoted(name)), expected a systemd unit such as named or bind9.service")
            }
            return .systemdUnit(name: name)
        case "command":
            return .command(try command(spec, outerTimeout: timeoutValue))
        case "tcp":
            let map = try spec.mapping(allowed: ["host", "port"])
            let host = try hostName(spec.required("host", in: map))
            let port = try portNumber(spec.required("port", in: map))
            return .tcp(host: host, port: port, timeoutSeconds: try probeTimeout())
        case "http":
            let map = try spec.mapping(allowed: ["url", "status"])
            let urlValue = try spec.required("url", in: map)
            let url = try urlValue.string()
            let scheme = url.hasPrefix("http://") ? 7 : url.hasPrefix("https://") ? 8 : 0
            guard scheme > 0, url.count > scheme, !url.contains(where: { $0.isWhitespace }) else {
                throw urlValue.error("invalid URL \(quoted(url)): expected http://HOST[:PORT]/PATH or https://...")
            }
            var status = 200
            if let statusValue = map["status"] {
                status = try statusValue.int()
                guard (100...599).contains(status) else { throw statusValue.error("HTTP status must be from 100 to 599, got \(status)") }
            }
            return .http(url: url, expectStatus: status, timeoutSeconds: try probeTimeout())
        default:  // dns
            let map = try spec.mapping(allowed: ["server", "port", "name", "allow_nxdomain"])
            let server = try hostName(spec.required("server", in: map, hint: "the resolver to ask, such as 127.0.0.1"))
            let port = try map["port"].map(portNumber) ?? 53
            let nameValue = try spec.required("name", in: map, hint: "the name to resolve, such as example.com")
            let name = try nameValue.string()
            guard !name.isEmpty, name.utf8.count <= 253, !name.contains(where: \.isWhitespace) else {
                throw nameValue.error("invalid DNS name \(quoted(name))")
            }
            let allowNX = try map["allow_nxdomain"]?.bool() ?? false
            return .dns(server: server, port: port, name: name, allowNXDomain: allowNX, timeoutSeconds: try probeTimeout())
        }
    }

    static func hostName(_ value: YAMLValue) throws(InvalidInput) -> String {
        let host = try value.string()
        guard !host.isEmpty, host.utf8.count <= 253, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw value.error("invalid host \(quoted(host)): expected a name or an IP address")
        }
        return host
    }

    static func portNumber(_ value: YAMLValue) throws(InvalidInput) -> Int {
        let port = try value.int()
        guard (1...65535).contains(port) else { throw value.error("port must be from 1 to 65535, got \(port)") }
        return port
    }
}
