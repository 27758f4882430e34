import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

// Listing and revoking tokens on the controller host, outside the API: the way back when
// the only admin token is lost or stolen.

extension TokenCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List operator tokens: key id, name, role, state. Never secrets.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let database = try store.open(try store.settings())
            print(localTokenLines(try database.listTokens(kind: .operatorToken, nowMs: SystemWallClock().nowMs())), terminator: "")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an operator token at once, even the last admin token (the API refuses that one).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The token's key id (16 hex digits), or the whole token.") var key: String
        @Option(help: "Why, for the audit log.") var reason: String

        func run() async throws {
            let info = try localRevoke(store: store, key: key, kind: .operatorToken, reason: reason)
            FileHandle.standardError.write(Data("revoked operator token \(info.keyID) (\(info.name), \(info.role?.rawValue ?? "?"))\n".utf8))
        }
    }
}

extension EnrollTokenCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List enrollment tokens: key id, name, labels, uses left, state. Never secrets.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let database = try store.open(try store.settings())
            print(localTokenLines(try database.listTokens(kind: .enrollment, nowMs: SystemWallClock().nowMs())), terminator: "")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an enrollment token at once.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The token's key id (16 hex digits), or the whole token.") var key: String
        @Option(help: "Why, for the audit log.") var reason: String

        func run() async throws {
            let info = try localRevoke(store: store, key: key, kind: .enrollment, reason: reason)
            FileHandle.standardError.write(Data("revoked enrollment token \(info.keyID) (\(info.name))\n".utf8))
        }
    }
}

private func localRevoke(store: StoreOptions, key: String, kind: CredentialToken.Kind, reason: String) throws -> TokenInfo {
    let database = try store.open(try store.settings())
    let keyID = CredentialToken(parsing: key)?.keyID ?? key
    do {
        return try database.revokeToken(
            keyID: keyID, kind: kind, reason: reason, actor: .local(localUser()), nowMs: SystemWallClock().nowMs(), allowLastAdmin: true)
    } catch let error as StoreError {
        throw InvalidInput(error.description)
    }
}

/// `KEYID  NAME  ROLE-or-LABELS  STATE  expires ...`, one token a line.
private func localTokenLines(_ tokens: [TokenInfo]) -> String {
    tokens.map { t in
        var fields = [t.keyID, t.name, t.role?.rawValue ?? t.labels?.description ?? "-", t.state.rawValue]
        if let uses = t.usesLeft { fields.append("uses-left=\(uses)") }
        fields.append("expires=" + (t.expiresAtMs.map { AuditTime.rfc3339($0) } ?? "never"))
        if let revoked = t.revokedAtMs { fields.append("revoked=\(AuditTime.rfc3339(revoked)) by \(t.revokedBy ?? "?")") }
        return fields.joined(separator: "  ") + "\n"
    }.joined()
}
