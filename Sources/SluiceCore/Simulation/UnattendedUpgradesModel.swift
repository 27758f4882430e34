/// The counterfactual of the demo: the same fleet and the same bind9 update, run the way
/// unattended-upgrades runs it. Pure and seeded: the same fleet, seed and parameters give the
/// same figures, and a test can check that they are computed, not printed from constants.
///
/// Every host runs `apt-daily-upgrade.timer` (`OnCalendar=*-*-* 6:00`, `RandomizedDelaySec=60m`):
/// it upgrades at 06:00 plus a uniform random delay, with no checks and no halt. The update
/// breaks every resolver whose live config uses the dropped option (`dnssec-enable`): named
/// refuses its config and stays down. Nobody stops the timers; a region's monitoring notices
/// `detectionSeconds` after its first broken resolver, and the fix (config change pushed by
/// configuration management) lands `detectionPlusFixSeconds` after that first failure, as in
/// SPM-2024-003 (20 minutes to the page, 40 to the end of the incident on osc-fr1). A resolver
/// whose timer fires after its region's fix is not broken.
public enum UnattendedUpgradesModel {
    /// One host of the fleet, as the model sees it.
    public struct Host: Sendable, Equatable {
        public var id: String
        public var region: String
        public var role: String
        /// The package the update touches is installed here.
        public var hasPackage: Bool
        /// The live config uses the option the new version dropped: the update breaks it.
        public var configUsesDroppedOption: Bool

        public init(id: String, region: String, role: String, hasPackage: Bool, configUsesDroppedOption: Bool) {
            self.id = id
            self.region = region
            self.role = role
            self.hasPackage = hasPackage
            self.configUsesDroppedOption = configUsesDroppedOption
        }
    }

    public struct Parameters: Sendable, Equatable {
        public var seed: UInt64
        /// The timer's time of day, in seconds after midnight (06:00).
        public var timerSeconds: Int
        /// `RandomizedDelaySec`.
        public var randomizedDelaySeconds: Int
        /// From a region's first broken resolver to the page.
        public var detectionSeconds: Int
        /// From a region's first broken resolver to the fix.
        public var detectionPlusFixSeconds: Int
        /// Which role is the one whose loss takes a region down.
        public var resolverRole: String

        public init(
            seed: UInt64, timerSeconds: Int = 6 * 3600, randomizedDelaySeconds: Int = 3600, detectionSeconds: Int = 20 * 60,
            detectionPlusFixSeconds: Int = 40 * 60, resolverRole: String = "dns-resolver"
        ) {
            self.seed = seed
            self.timerSeconds = timerSeconds
            self.randomizedDelaySeconds = randomizedDelaySeconds
            self.detectionSeconds = detectionSeconds
            self.detectionPlusFixSeconds = detectionPlusFixSeconds
            self.resolverRole = resolverRole
        }
    }

    /// One host the update broke: down from `brokenAt` to `fixedAt` (seconds after midnight).
    public struct Breakage: Sendable, Equatable {
        public var host: String
        public var region: String
        public var brokenAt: Int
        public var fixedAt: Int
        public var downSeconds: Int { fixedAt - brokenAt }
    }

    /// Runs the model. Hosts without the package never upgrade it.
    public static func run(_ fleet: [Host], _ parameters: Parameters) -> Comparison.Figures {
        var rng = SplitMix64(seed: parameters.seed)
        // Every host draws its delay, in fleet order, so one host's draw does not depend on another's role.
        var upgradeAt: [String: Int] = [:]
        for host in fleet {
            let delay = parameters.randomizedDelaySeconds > 0 ? Int(rng.next() % UInt64(parameters.randomizedDelaySeconds + 1)) : 0
            if host.hasPackage { upgradeAt[host.id] = parameters.timerSeconds + delay }
        }
        let resolvers = fleet.filter { $0.role == parameters.resolverRole }
        let byRegion = Dictionary(grouping: resolvers, by: \.region)
        var breakages: [Breakage] = []
        var regionsLost: [String] = []
        var regionDownSeconds = 0
        var detections: [Int] = []
        for (region, hosts) in byRegion.sorted(by: { $0.key < $1.key }) {
            let breaking = hosts.filter(\.configUsesDroppedOption).compactMap { h in upgradeAt[h.id].map { (h, $0) } }
            guard let first = breaking.map(\.1).min() else { continue }
            let fixedAt = first + parameters.detectionPlusFixSeconds
            detections.append(first + parameters.detectionSeconds)
            let broken = breaking.filter { $0.1 < fixedAt }.sorted { ($0.1, $0.0.id) < ($1.1, $1.0.id) }
            for (host, at) in broken {
                breakages.append(Breakage(host: host.id, region: region, brokenAt: at, fixedAt: fixedAt))
            }
            if broken.count == hosts.count, let last = broken.map(\.1).max() {
                regionsLost.append(region)
                regionDownSeconds += fixedAt - last
            }
        }
        breakages.sort { ($0.brokenAt, $0.host) < ($1.brokenAt, $1.host) }
        let firstFailure = breakages.first?.brokenAt
        return Comparison.Figures(
            regionsLost: regionsLost,
            resolverSecondsDown: breakages.reduce(0) { $0 + $1.downSeconds },
            regionSecondsWithoutDNS: regionDownSeconds,
            firstFailureToDetectionSeconds: firstFailure.flatMap { f in detections.min().map { $0 - f } },
            firstFailureToHaltSeconds: nil,
            hostsBroken: breakages.map(\.host),
            hostsChanged: upgradeAt.count,
            breakages: breakages)
    }
}

/// The figures the demo prints side by side: the unattended-upgrades model, and the Sluice run.
public enum Comparison {
    public struct Figures: Sendable, Equatable {
        /// Regions where every resolver was down at once.
        public var regionsLost: [String]
        public var resolverSecondsDown: Int
        /// Summed over lost regions: how long each had no resolver at all.
        public var regionSecondsWithoutDNS: Int
        /// `nil`: nothing failed.
        public var firstFailureToDetectionSeconds: Int?
        /// `nil`: never halted (or nothing failed).
        public var firstFailureToHaltSeconds: Int?
        /// Hosts the update broke (down until someone repaired them).
        public var hostsBroken: [String]
        /// Hosts that got the new version installed (or tried).
        public var hostsChanged: Int
        public var breakages: [UnattendedUpgradesModel.Breakage]

        public init(
            regionsLost: [String], resolverSecondsDown: Int, regionSecondsWithoutDNS: Int, firstFailureToDetectionSeconds: Int?,
            firstFailureToHaltSeconds: Int?, hostsBroken: [String], hostsChanged: Int, breakages: [UnattendedUpgradesModel.Breakage] = []
        ) {
            self.regionsLost = regionsLost
            self.resolverSecondsDown = resolverSecondsDown
            self.regionSecondsWithoutDNS = regionSecondsWithoutDNS
            self.firstFailureToDetectionSeconds = firstFailureToDetectionSeconds
            self.firstFailureToHaltSeconds = firstFailureToHaltSeconds
            self.hostsBroken = hostsBroken
            self.hostsChanged = hostsChanged
            self.breakages = breakages
        }
    }

    /// One host's end in a Sluice rollout, from the rollout's final state.
    public struct SluiceHost: Sendable, Equatable {
        public var host: String
        public var region: String
        public var role: String
        public var state: AssignmentState
        /// How long the host's service was down during its apply (0 for a rollback before restart).
        public var downSeconds: Int
        public init(host: String, region: String, role: String, state: AssignmentState, downSeconds: Int) {
            self.host = host
            self.region = region
            self.role = role
            self.state = state
            self.downSeconds = downSeconds
        }
    }

    /// The Sluice run's figures, from its final assignment states and the measured times
    /// (first failing report to the controller's halt; the agent's own validation is the detection).
    public static func sluice(
        _ hosts: [SluiceHost], fleetResolvers: [String: Int], resolverRole: String = "dns-resolver", firstFailureToHaltSeconds: Int?,
        anyFailure: Bool
    ) -> Figures {
        let resolvers = hosts.filter { $0.role == resolverRole }
        let broken = hosts.filter { $0.state == .failed }
        var lost: [String] = []
        for (region, count) in fleetResolvers.sorted(by: { $0.key < $1.key }) {
            let down = resolvers.filter { $0.region == region && $0.state == .failed }.count
            if count > 0 && down == count { lost.append(region) }
        }
        return Figures(
            regionsLost: lost,
            resolverSecondsDown: resolvers.reduce(0) { $0 + $1.downSeconds },
            regionSecondsWithoutDNS: 0,
            firstFailureToDetectionSeconds: anyFailure ? 0 : nil,
            firstFailureToHaltSeconds: firstFailureToHaltSeconds,
            hostsBroken: broken.map(\.host),
            hostsChanged: hosts.filter { $0.state != .pending && $0.state != .cancelled }.count)
    }
}

/// SplitMix64: a small, fast, seeded generator (the same sequence on every platform).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
