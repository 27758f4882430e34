import ArgumentParser
import SluiceAPI
import SluiceClient
import SluiceCore

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Operator tokens.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an operator token (needs an admin token). The secret is shown once.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The operator's name, recorded as operator:NAME.") var name: String
        @Option(help: "viewer, operator or admin.") var role: String = "operator"
        @Option(help: "Lifetime, such as 90d; no expiry when absent.") var expiresIn: String?

        func run() async throws {
            guard let role = OperatorRole(rawValue: role) else { throw InvalidInput("invalid role \(quoted(role)): use viewer, operator or admin") }
            let seconds = try expiresIn.map { Int(try DurationText.parseSeconds($0)) }
            let issued = try await global.client().createToken(CreateTokenRequest(name: name, role: role, expiresInSeconds: seconds))
            try global.emit(issued) { issued.token + "\n" }
        }
    }
}

struct EnrollTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll-token", abstract: "Enrollment (bootstrap) tokens for new agents.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an enrollment token (needs an admin token). The secret is shown once.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "A name for the token, recorded in the audit log.") var name: String
        @Option(help: "How many hosts it may enroll.") var uses: Int = 1
        @Option(help: "Lifetime, such as 1h or 7d.") var expiresIn: String = "1d"
        @Option(name: .customLong("label"), help: "Only enroll hosts with this label, key=value (repeatable).") var labels: [String] = []

        func run() async throws {
            var bound: [String: String] = [:]
            for text in labels {
                let (key, value) = try Labels.parseAssignment(text)
                bound[key] = value
            }
            let request = CreateEnrollmentTokenRequest(
                name: name, uses: uses, expiresInSeconds: Int(try DurationText.parseSeconds(expiresIn)),
                labels: bound.isEmpty ? nil : try Labels(validating: bound))
            let issued = try await global.client().createEnrollmentToken(request)
            try global.emit(issued) { issued.token + "\n" }
        }
    }
}
