import Foundation
import NIOCore
import SluiceController
import SluiceCore
import Testing

/// sluiced's config file: the TLS and limit keys, and one-line errors for bad values.
@Suite struct ControllerSettingsTests {
    @Test func theConfigFileSetsTLSAndLimits() throws {
        var settings = ControllerSettings()
        try settings.apply(
            configYAML: """
                listen: 0.0.0.0:8460
                tls:
                  cert: /etc/sluice/tls/server.pem
                  key: /etc/sluice/tls/server-key.pem
                  ca: /etc/sluice/tls/ca.pem
                  ca_key: /etc/sluice/tls/ca-key.pem
                  require_client_cert: true
                rate_limit: {per_second: 10, burst: 40}
                enrollment_rate_limit: {per_second: 2, burst: 100}
                idle_timeout: 45s
                saved_package_retention: 3d
                inventory_budget: {per_minute: 2, burst: 12}
                health_audit_interval: 5m
                """, file: "sluiced.yaml")
        #expect(
            settings.tls
                == .init(
                    certificate: "/etc/sluice/tls/server.pem", key: "/etc/sluice/tls/server-key.pem", authority: "/etc/sluice/tls/ca.pem",
                    authorityKey: "/etc/sluice/tls/ca-key.pem", requireClientCertificates: true))
        #expect(settings.rateLimit == .init(perSecond: 10, burst: 40))
        #expect(settings.enrollmentRateLimit == .init(perSecond: 2, burst: 100))
        #expect(settings.idleTimeoutSeconds == 45)
        #expect(settings.savedPackageRetentionMs == 3 * 86_400_000)
        #expect(ControllerSettings().savedPackageRetentionMs == 7 * 86_400_000, "a week by default")
        #expect(settings.inventoryBudget == .init(perSecond: 2.0 / 60, burst: 12))
        #expect(settings.healthAuditIntervalMs == 300_000)
        #expect(ControllerSettings().inventoryBudget == .init(perSecond: 1.0 / 60, burst: 10))
        #expect(ControllerSettings().healthAuditIntervalMs == 60_000)
        try settings.checkTransport()
    }

    @Test func theShippedExampleConfigParsesWithEveryCommentedKeyEnabled() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../systemd/sluiced.yaml.example").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var settings = ControllerSettings()
        try settings.apply(configYAML: text, file: path)
        // Uncomment every `# key: value` line (not the prose): the documented keys must parse too.
        let enabled = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            let stripped = line.drop { $0 == "#" }.dropFirst()
            let looksLikeKey = line.hasPrefix("# ") && stripped.first.map { $0 != " " } == true && (stripped.contains(": ") || stripped.hasSuffix(":"))
                && stripped.prefix(while: { $0 != ":" }).allSatisfy { $0.isLowercase || $0 == "_" }
            let looksLikeNested = line.hasPrefix("#   ") && stripped.dropFirst(2).prefix(while: { $0 != ":" }).allSatisfy { $0.isLowercase || $0 == "_" }
            return looksLikeKey || looksLikeNested ? stripped : line
        }.joined(separator: "\n")
        var all = ControllerSettings()
        try all.apply(configYAML: enabled, file: path)
        #expect(all.tls?.requireClientCertificates == true)
        #expect(all.rateLimit == .init(perSecond: 50, burst: 200))
        #expect(all.idleTimeoutSeconds == 30)
    }

    @Test func badTLSOrLimitKeysGetOneLineNamingTheKey() {
        let cases: [(String, String)] = [
            ("tls: {cert: a.pem}", "needs cert and key"),
            ("tls: {cert: a.pem, key: b.pem, require_client_cert: true}", "needs the CA certificate"),
            ("tls: {cert: a.pem, key: b.pem, ca_key: k.pem}", "needs the CA certificate"),
            ("tls: {cert: a.pem, key: b.pem, crt: c.pem}", "crt"),
            ("rate_limit: {per_second: 0, burst: 10}", "between 1 and 100000"),
            ("rate_limit: {per_second: 5}", "needs per_second and burst"),
            ("idle_timeout: 0s", "between 1s and 1h"),
            ("saved_package_retention: 400d", "between 0s and 365d"),
            ("stale_after: 20000000000w", "between 10s and 30d"),
            ("max_connections: 8", "between 16 and 10000000"),
            ("max_connections_per_address: 0", "between 1 and 10000000"),
            ("unauthenticated_timeout: 0s", "between 1s and 5m"),
            ("inventory_budget: {per_minute: 1, burst: 2}", "between 8 and 100000"),
            ("inventory_budget: {burst: 10}", "needs per_minute and burst"),
            ("health_audit_interval: 2d", "between 0s and 1d"),
        ]
        for (yaml, expected) in cases {
            var settings = ControllerSettings()
            do {
                try settings.apply(configYAML: yaml, file: "sluiced.yaml")
                Issue.record("\(yaml) was accepted")
            } catch {
                #expect(error.message.contains(expected), "\(yaml): \(error.message)")
                #expect(error.message.hasPrefix("sluiced.yaml:"), "\(error.message)")
                #expect(!error.message.contains("\n"))
            }
        }
    }

    @Test func connectionCapsComeFromTheConfigOrFromTheOpenFilesLimit() throws {
        var settings = ControllerSettings()
        #expect(settings.connectionLimits(openFileLimit: 128) == .init(maxConnections: 64, maxPerAddress: 8, unauthenticatedTimeout: .seconds(10)))
        #expect(settings.connectionLimits(openFileLimit: 65_536).maxConnections == 65_472)
        #expect(settings.connectionLimits(openFileLimit: 65_536).maxPerAddress == 8_184)
        #expect(settings.connectionLimits(openFileLimit: 20).maxConnections == 16)
        #expect(settings.connectionLimits(openFileLimit: 128).maxSockets == 80)
        #expect(settings.connectionLimits(openFileLimit: 65_536).maxSockets == 65_504)
        try settings.apply(
            configYAML: "max_connections: 500\nmax_connections_per_address: 50\nunauthenticated_timeout: 3s\n", file: "sluiced.yaml")
        #expect(settings.connectionLimits(openFileLimit: 128) == .init(maxConnections: 500, maxPerAddress: 50, unauthenticatedTimeout: .seconds(3)))
    }
}
