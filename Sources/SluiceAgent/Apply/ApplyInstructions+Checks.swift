import SluiceCore

extension ApplyInstructions {
    /// The most packages one assignment may name.
    public static let maxPackages = 1000

    /// Refuses instructions that must never reach apt, with one line saying why: an empty
    /// package set, a package named twice, an unusable command, check or timing.
    ///
    /// Names and versions themselves were validated when the ``PackagePin``s were parsed or
    /// decoded (Debian syntax only, so no shell metacharacter or option-looking name gets here).
    /// - Parameter assignmentID: the assignment's id, which also names its rollback directory.
    /// - Throws: ``InvalidInput`` naming the first problem.
    public func checkForApply(assignmentID: String) throws(InvalidInput) {
        try Self.checkAssignmentID(assignmentID)
        guard !packages.isEmpty else { throw InvalidInput("empty package set: an assignment must name at least one name=version") }
        guard packages.count <= Self.maxPackages else {
            throw InvalidInput("\(packages.count) packages in one assignment; the limit is \(Self.maxPackages)")
        }
        var seen: [PackageName: PackagePin] = [:]
        for pin in packages {
            if let earlier = seen[pin.name] {
                throw InvalidInput("package \(pin.name) is listed twice (\(earlier.version) and \(pin.version)); an assignment names each package once")
            }
            seen[pin.name] = pin
        }
        for (kind, commands) in [("validation", validations), ("pre hook", preHooks), ("post hook", postHooks)] {
            for command in commands { try Self.check(command, kind) }
        }
        for check in healthChecks { try Self.check(check) }
        guard (1...3600).contains(healthDeadlineSeconds) else {
            throw InvalidInput("health deadline \(healthDeadlineSeconds)s must be between 1s and 1h")
        }
        guard (1...healthDeadlineSeconds).contains(healthRetryIntervalSeconds) else {
            throw InvalidInput("health retry interval \(healthRetryIntervalSeconds)s must be between 1s and the deadline")
        }
    }

    /// Assignment ids name directories, so they are kept to `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`.
    static func checkAssignmentID(_ id: String) throws(InvalidInput) {
        let allowed = id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }
        guard !id.isEmpty, id.count <= 128, allowed, let first = id.unicodeScalars.first, !"._-".unicodeScalars.contains(first) else {
            throw InvalidInput("invalid assignment id \(quoted(id)): use 1 to 128 letters, digits, \".\", \"_\" or \"-\", starting with a letter or digit")
        }
    }

    static func check(_ command: CommandSpec, _ kind: String) throws(InvalidInput) {
        guard let program = command.argv.first, !program.isEmpty else { throw InvalidInput("\(kind) has an empty command") }
        guard !command.argv.contains(where: { $0.unicodeScalars.contains("\0") }) else {
            throw InvalidInput("\(kind) \(quoted(program)) has an argument containing a NUL byte")
        }
        guard (1...86400).contains(command.timeoutSeconds) else {
            throw InvalidInput("\(kind) \(quoted(program)) timeout \(command.timeoutSeconds)s must be between 1s and 1d")
        }
    }

    static func check(_ check: HealthCheck) throws(InvalidInput) {
        func timeout(_ seconds: Int) throws(InvalidInput) {
            guard (1...600).contains(seconds) else { throw InvalidInput("health check \(check) timeout \(seconds)s must be between 1s and 10min") }
        }
        func port(_ value: Int) throws(InvalidInput) {
            guard (1...65535).contains(value) else { throw InvalidInput("health check \(check): port \(value) is not between 1 and 65535") }
        }
        switch check {
        case .systemdUnit(let name):
            guard !name.isEmpty, !name.hasPrefix("-"), name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
                throw InvalidInput("invalid systemd unit name \(quoted(name))")
            }
        case .command(let spec): try Self.check(spec, "health check")
        case .tcp(let host, let value, let seconds):
            guard !host.isEmpty else { throw InvalidInput("tcp health check has an empty host") }
            try port(value)
            try timeout(seconds)
        case .http(let url, let status, let seconds):
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw InvalidInput("http health check URL \(quoted(url)) must start with http:// or https://")
            }
            guard (100...599).contains(status) else { throw InvalidInput("http health check expects status \(status), not an HTTP status") }
            try timeout(seconds)
        case .dns(let server, let value, let name, _, let seconds):
            guard !server.isEmpty else { throw InvalidInput("dns health check has an empty server") }
            try port(value)
            try timeout(seconds)
            do { _ = try DNSMessage.query(id: 0, name: name) } catch { throw InvalidInput("dns health check: \(error.message)") }
        }
    }
}
