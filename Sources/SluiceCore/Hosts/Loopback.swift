/// Whether an address names this machine only: `localhost`, `::1`, or an IPv4 literal in
/// 127.0.0.0/8 (also IPv4-mapped, `::ffff:127.0.0.1`). A host name that merely starts with
/// "127." is not loopback.
public enum Loopback {
    public static func contains(_ host: String) -> Bool {
        var host = host
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" || host == "::1" { return true }
        if host.lowercased().hasPrefix("::ffff:") { host = String(host.dropFirst(7)) }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in
            (1...3).contains(part.count) && part.allSatisfy { ("0"..."9").contains($0) } && Int(part)! <= 255
        }
    }
}
