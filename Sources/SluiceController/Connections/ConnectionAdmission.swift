import SluiceCore

/// Which connections the controller keeps: at most `maxConnections` in all and
/// `maxPerAddress` from one source address (an IPv6 address counted by its /64; loopback is
/// exempt, as from rate limits). A new connection over a cap takes the place of the oldest
/// one in the same scope that has not yet made an authenticated request; with none to
/// replace, the new one is refused. Authenticated connections are never displaced, so idle
/// sockets opened by someone without a credential cannot keep agents or operators out.
///
/// A value type with no I/O and no clock: ``ConnectionGuard`` performs what it decides.
struct ConnectionAdmission: Sendable {
    typealias ID = UInt64

    /// What to do with a new connection.
    enum Decision: Equatable, Sendable {
        /// Keep it; close these older unauthenticated ones to make room.
        case admit(closing: [ID])
        /// Close it at once: the cap is reached by authenticated connections.
        case refuse(reason: String)
    }

    struct Entry: Sendable {
        var address: String
        var authenticated: Bool
    }

    let maxConnections: Int
    let maxPerAddress: Int
    /// Open connections by id; ids grow with time, so the lowest is the oldest.
    private(set) var open: [ID: Entry] = [:]
    private var perAddress: [String: Int] = [:]
    /// Connections in the order they opened; those closed or authenticated since are
    /// skipped when met, and dropped when they outnumber the open ones.
    private var arrivals: [ID] = []

    init(maxConnections: Int, maxPerAddress: Int) {
        self.maxConnections = maxConnections
        self.maxPerAddress = maxPerAddress
    }

    var count: Int { open.count }
    /// Arrivals remembered (open ones, and some closed since): bounded by twice the open ones.
    var pendingArrivals: Int { arrivals.count }

    /// A new connection `id` (greater than every earlier one) from `address`.
    mutating func opened(_ id: ID, address: String) -> Decision {
        let key = Self.key(address)
        var closing: [ID] = []
        if let key, perAddress[key, default: 0] >= maxPerAddress {
            guard let oldest = oldestWaiting(where: { $0.address == key }) else {
                return .refuse(reason: "\(maxPerAddress) connections from \(address) already (max_connections_per_address)")
            }
            closing.append(oldest)
            remove(oldest)
        }
        if open.count >= maxConnections {
            // Never reached after a displacement by address: that freed a place.
            guard let oldest = oldestWaiting(where: { _ in true }) else {
                return .refuse(reason: "\(maxConnections) connections open already (max_connections)")
            }
            closing.append(oldest)
            remove(oldest)
        }
        open[id] = Entry(address: key ?? address, authenticated: false)
        if let key { perAddress[key, default: 0] += 1 }
        arrivals.append(id)
        if arrivals.count > 2 * open.count + 64 {
            let open = self.open
            arrivals.removeAll { id in open[id].map(\.authenticated) ?? true }
        }
        return .admit(closing: closing)
    }

    /// `id` made a request with a valid credential: it is never displaced.
    mutating func authenticated(_ id: ID) {
        guard var entry = open[id], !entry.authenticated else { return }
        entry.authenticated = true
        open[id] = entry
    }

    /// Whether `id` is open and has not authenticated.
    func isWaiting(_ id: ID) -> Bool { open[id].map { !$0.authenticated } ?? false }

    /// `id` closed (whoever closed it).
    mutating func closed(_ id: ID) { remove(id) }

    private mutating func remove(_ id: ID) {
        guard let entry = open.removeValue(forKey: id) else { return }
        if !Loopback.contains(entry.address), let count = perAddress[entry.address] {
            perAddress[entry.address] = count > 1 ? count - 1 : nil
        }
    }

    private func oldestWaiting(where matches: (Entry) -> Bool) -> ID? {
        arrivals.first { id in open[id].map { !$0.authenticated && matches($0) } ?? false }
    }

    /// The key an address is counted under, or nil for loopback (not counted).
    private static func key(_ address: String) -> String? {
        Loopback.contains(address) ? nil : IPv6Prefix.slash64(address)
    }
}
