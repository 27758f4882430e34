import Synchronization

/// Token buckets by identity: each key may make `burst` requests at once, refilled at
/// `perSecond`; a request may cost more than one (an inventory costs one per MiB). Memory stays bounded: beyond `maxKeys` keys, buckets that are full again
/// (idle long enough to have refilled) are dropped first, then the oldest.
final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let limit: ControllerSettings.RateLimit
    let maxKeys: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    init(_ limit: ControllerSettings.RateLimit, maxKeys: Int = 200_000) {
        self.limit = limit
        self.maxKeys = maxKeys
    }

    /// How many keys have a bucket.
    var keyCount: Int { buckets.withLock { $0.count } }

    /// Takes `cost` from `key`'s bucket; returns nil when allowed, or the seconds until
    /// the bucket holds `cost` again. A cost above `burst` is taken as `burst`.
    func take(_ key: String, cost: Double = 1, now: ContinuousClock.Instant = .now) -> Double? {
        let cost = min(cost, limit.burst)
        return buckets.withLock { buckets -> Double? in
            var bucket = buckets[key] ?? Bucket(tokens: limit.burst, updated: now)
            bucket.tokens = min(limit.burst, bucket.tokens + max(0, Self.seconds(now - bucket.updated)) * limit.perSecond)
            bucket.updated = now
            guard bucket.tokens >= cost else {
                buckets[key] = bucket
                return (cost - bucket.tokens) / limit.perSecond
            }
            bucket.tokens -= cost
            if buckets[key] == nil && buckets.count >= maxKeys { prune(&buckets, now: now, keep: maxKeys / 2) }
            buckets[key] = bucket
            return nil
        }
    }

    private func prune(_ buckets: inout [String: Bucket], now: ContinuousClock.Instant, keep: Int) {
        let refill = limit.burst / limit.perSecond
        buckets = buckets.filter { Self.seconds(now - $0.value.updated) < refill }
        if buckets.count > keep {
            let newest = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(keep)
            buckets = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
