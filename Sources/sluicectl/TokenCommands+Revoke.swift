import ArgumentParser
import Foundation
import SluiceAPI
import SluiceClient
import SluiceCore

extension TokenCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List operator tokens (needs an admin token): key id, name, role, state, times. Never secrets.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let list = try await global.client().listTokens()
            try global.emit(list) { renderTokens(list, operators: true) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an operator token at once (needs an admin token). The last live admin token cannot be revoked here.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The token's key id (16 hex digits), or the whole token.") var key: String
        @Option(help: "Why, for the audit log.") var reason: String

        func run() async throws {
            let keyID = tokenKeyID(key)
            let info = try await global.client().revokeToken(keyID: keyID, reason: reason)
            try global.emit(info) {
                var out = "revoked operator token \(info.keyID) (\(info.name), \(info.role?.rawValue ?? "?"))\n"
                if keyID == global.presentedKeyID { out += "note: that is the token this command used; it no longer works\n" }
                return out
            }
        }
    }
}

extension EnrollTokenCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List enrollment tokens (needs an admin token): key id, name, labels, uses left, state. Never secrets.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let list = try await global.client().listEnrollmentTokens()
            try global.emit(list) { renderTokens(list, operators: false) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an enrollment token at once (needs an admin token).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The token's key id (16 hex digits), or the whole token.") var key: String
        @Option(help: "Why, for the audit log.") var reason: String

        func run() async throws {
            let info = try await global.client().revokeEnrollmentToken(keyID: tokenKeyID(key), reason: reason)
            try global.emit(info) { "revoked enrollment token \(info.keyID) (\(info.name))\n" }
        }
    }
}

extension GlobalOptions {
    /// The key id of the token this command presents, if it has one.
    var presentedKeyID: String? {
        (token ?? ProcessInfo.processInfo.environment["SLUICE_TOKEN"]).flatMap { CredentialToken(parsing: $0)?.keyID }
    }
}

/// A key id as typed, or the key id of a whole token pasted instead.
func tokenKeyID(_ text: String) -> String {
    CredentialToken(parsing: text)?.keyID ?? text
}

/// One row per token; times relative to now.
func renderTokens(_ list: TokenList, operators: Bool, nowMs: Int64 = SystemWallClock().nowMs()) -> String {
    func expiry(_ ms: Int64?) -> String {
        guard let ms else { return "never" }
        return ms > nowMs ? "in " + formatDuration(ms: ms - nowMs) : formatDuration(ms: nowMs - ms) + " ago"
    }
    let header =
        operators
        ? ["KEY ID", "NAME", "ROLE", "STATE", "CREATED", "EXPIRES", "LAST USED", "REVOKED"]
        : ["KEY ID", "NAME", "LABELS", "USES LEFT", "STATE", "CREATED", "EXPIRES", "REVOKED"]
    return renderTable(
        header,
        list.tokens.map { t in
            let revoked = t.revokedAtMs.map { ago($0, nowMs: nowMs) + " by \(t.revokedBy ?? "?"): \(t.revokeReason ?? "")" } ?? "-"
            return operators
                ? [t.keyID, t.name, t.role?.rawValue ?? "?", t.state.rawValue, ago(t.createdAtMs, nowMs: nowMs), expiry(t.expiresAtMs),
                    ago(t.lastUsedAtMs, nowMs: nowMs), revoked]
                : [t.keyID, t.name, t.labels.map(\.description) ?? "-", t.usesLeft.map(String.init) ?? "-", t.state.rawValue,
                    ago(t.createdAtMs, nowMs: nowMs), expiry(t.expiresAtMs), revoked]
        })
}
