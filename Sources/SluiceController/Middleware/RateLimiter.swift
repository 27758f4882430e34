import Synchronization

/// Token buckets by identity: each key may make `burst` requests at once, refilled at
/// `perSecond`. Memory stays bounded: beyond `maxKeys` keys, buckets that are full again
/// (idle long enough to have refilled) are dropped first, then the oldest.
final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updatedNs: UInt64
    }

    let limit: ControllerSettings.RateLimit
    let maxKeys: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    init(_ limit: ControllerSettings.RateLimit, maxKeys: Int = 200_000) {
        self.limit = limit
        self.maxKeys = maxKeys
    }

    /// Takes one request from `key`'s bucket; returns nil when allowed, or the seconds until
    /// the next request would be.
    func take(_ key: String, nowNs: UInt64 = ContinuousClock.nanosecondsNow) -> Double? {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: limit.burst, updatedNs: nowNs)
            let elapsed = Double(nowNs &- bucket.updatedNs) / 1e9
            bucket.tokens = min(limit.burst, bucket.tokens + max(0, elapsed) * limit.perSecond)
            bucket.updatedNs = nowNs
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return (1 - bucket.tokens) / limit.perSecond
            }
            bucket.tokens -= 1
            if buckets[key] == nil && buckets.count >= maxKeys { Self.prune(&buckets, nowNs: nowNs, limit: limit, keep: maxKeys / 2) }
            buckets[key] = bucket
            return nil
        }
    }

    private static func prune(_ buckets: inout [String: Bucket], nowNs: UInt64, limit: ControllerSettings.RateLimit, keep: Int) {
        let refillNs = UInt64(limit.burst / limit.perSecond * 1e9)
        buckets = buckets.filter { nowNs &- $0.value.updatedNs < refillNs }
        if buckets.count > keep {
            let sorted = buckets.sorted { $0.value.updatedNs > $1.value.updatedNs }.prefix(keep)
            buckets = Dictionary(uniqueKeysWithValues: sorted.map { ($0.key, $0.value) })
        }
    }
}

extension ContinuousClock {
    private static let origin = ContinuousClock.now

    /// Nanoseconds since the first use: monotonic, for rate limits.
    static var nanosecondsNow: UInt64 {
        let elapsed = origin.duration(to: .now).components
        return UInt64(max(0, elapsed.seconds)) * 1_000_000_000 &+ UInt64(max(0, elapsed.attoseconds / 1_000_000_000))
    }
}
