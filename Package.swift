// swift-tools-version: 6.1
import PackageDescription

/// Every target builds in Swift 6 language mode (the tools version's default) with
/// complete strict concurrency checking; warnings are treated as defects in CI.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// Tests keep ExistentialAny but not MemberImportVisibility: test code may use what its
/// imports re-export (HTTP status constants from Hummingbird, for one).
let testSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "sluice",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sluiced", targets: ["sluiced"]),
        .executable(name: "sluice-agent", targets: ["sluice-agent"]),
        .executable(name: "sluicectl", targets: ["sluicectl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        // The domain: pure Swift, no I/O, no server or database imports.
        // Crypto only for `InventoryDigest`, which agent and controller must compute alike.
        .target(name: "SluiceCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        // The wire types of the /v1 API, shared by the controller and its clients.
        .target(name: "SluiceAPI", dependencies: ["SluiceCore"], swiftSettings: strict),
        .target(
            name: "SluiceStore",
            dependencies: [
                "SluiceCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The audit verify loop steps SQLite statements directly for speed.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict,
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "SluiceController",
            dependencies: [
                "SluiceCore", "SluiceAPI", "SluiceStore", "SluiceYAML", "SluiceTLS",
                // The open-files limit the connection caps are derived from.
                "SluiceProcess",
                // Alerts to the webhook: signed (HMAC-SHA256), sent with AsyncHTTPClient.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                // HTTPParserError: a client that went away mid-request, or sent broken framing.
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Certificates: the private CA, the controller's server certificate and agents' client
        // certificates (`sluiced tls init`, mTLS at enrollment).
        .target(
            name: "SluiceTLS",
            dependencies: [
                "SluiceCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // Strict YAML reading with file:line:column errors, for configs and policies.
        .target(
            name: "SluiceYAML",
            dependencies: ["SluiceCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict,
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "SluiceClient",
            dependencies: [
                "SluiceCore", "SluiceAPI", "SluiceTLS",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "SluiceAgent",
            dependencies: [
                "SluiceCore", "SluiceAPI", "SluiceClient", "SluiceYAML", "SluiceTLS", "SluiceProcess",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                // HTTP health checks, on the event loops SluiceClient already runs (not URLSession).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Simulated agents in one process over the real HTTP API: for the demo, tests and benchmarks.
        // Process-wide settings the long-running programs share (open-files limit).
        // dl_iterate_phdr and ELF headers, which the Glibc module does not export (StartupPages).
        .target(name: "CSluiceProcess"),
        .target(name: "SluiceProcess", dependencies: ["CSluiceProcess"], swiftSettings: strict),
        .target(
            name: "SluiceSimulator",
            dependencies: [
                "SluiceCore", "SluiceAPI", "SluiceClient", "SluiceAgent", "SluiceProcess",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "sluiced",
            dependencies: [
                "SluiceController", "SluiceStore", "SluiceCore", "SluiceYAML", "SluiceTLS", "SluiceProcess",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // `sluiced init` runs systemctl (argv, bounded output).
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "sluice-agent",
            dependencies: [
                "SluiceAgent", "SluiceCore", "SluiceAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "sluicectl",
            dependencies: [
                "SluiceClient", "SluiceAPI", "SluiceCore", "SluiceYAML", "SluiceStore", "SluiceSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Benchmarks that print figures (docs/BENCHMARKS.md): audit, plan, checkins, halt, agent-footprint.
        .executableTarget(
            name: "sluice-bench",
            dependencies: [
                "SluiceStore", "SluiceCore", "SluiceAPI", "SluiceController", "SluiceClient", "SluiceProcess",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Build-time tool: turns Migrations/*.sql into Swift source so that an installed
        // sluiced carries its schema with no file beside it.
        .executableTarget(name: "embed-migrations", swiftSettings: strict),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["embed-migrations"]),

        // Shared fixtures for the test targets (not shipped).
        .target(name: "SluiceTestSupport", dependencies: ["SluiceCore"], path: "Tests/SluiceTestSupport", swiftSettings: testSettings),
        .testTarget(
            name: "SluiceCoreTests",
            dependencies: ["SluiceCore", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "SluiceStoreTests",
            dependencies: ["SluiceStore", "SluiceCore", "SluiceTestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: testSettings
        ),
        .testTarget(
            name: "SluiceControllerTests",
            dependencies: [
                "SluiceController", "SluiceStore", "SluiceAPI", "SluiceCore", "SluiceTestSupport", "SluiceTLS", "SluiceClient",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: testSettings
        ),
        .testTarget(name: "SluiceProcessTests", dependencies: ["SluiceProcess"], swiftSettings: testSettings),
        // Fixtures/: unattended-upgrades' shipped configurations, read by path from the tests.
        .testTarget(name: "SluiceYAMLTests", dependencies: ["SluiceYAML", "SluiceCore"], exclude: ["Fixtures"], swiftSettings: testSettings),
        .testTarget(name: "SluiceAgentTests", dependencies: ["SluiceAgent", "SluiceCore", "SluiceAPI", "SluiceClient", "SluiceTestSupport"], swiftSettings: testSettings),
        // Runs the built executables as real processes over a real loopback socket.
        .testTarget(
            name: "SluiceLiveTests",
            // SluiceAgent for its command runner (swift-subprocess: argv, timeouts, bounded output).
            dependencies: [
                "sluiced", "sluice-agent", "sluicectl", "SluiceAPI", "SluiceCore", "SluiceClient", "SluiceSimulator", "SluiceAgent",
                "SluiceTestSupport",
            ],
            swiftSettings: testSettings
        ),
    ]
)

// BEGIN apply crash-test harness (issue 4, agent apply). A test-only program that runs
// AptBackend in a child process, so the crash tests in Tests/SluiceAgentTests/Apply can
// kill -9 it right after each journal step and then run recovery in a new process. It is not
// a product and is never installed; SluiceAgentTests depends on it so `swift test` builds it.
package.targets.append(
    .executableTarget(
        name: "sluice-apply-harness", dependencies: ["SluiceAgent", "SluiceCore"], path: "Tests/SluiceApplyHarness",
        swiftSettings: strict))
for target in package.targets where target.name == "SluiceAgentTests" {
    target.dependencies.append("sluice-apply-harness")
}
// END apply crash-test harness
