import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import Synchronization

/// The host credentials this process has verified against the database, so that an agent's
/// every heartbeat does not read its credential row again (that read was about 5 % of a
/// heartbeat's CPU).
///
/// An entry holds what the check needs: the secret's hash (the presented secret is still
/// hashed and compared in constant time on every request), the host, the expiry. A host
/// credential changes only in this store: it is created at enrollment and ends when its host
/// or token is revoked, through the controller's API; every revocation empties the cache
/// before its transaction returns, and a credential checked while a revocation commits is not
/// stored (the epoch moved). Every `SluiceDatabase` of this process on the same file shares
/// one cache; another process cannot revoke a host credential (`sluiced token revoke` revokes
/// operator and enrollment tokens, which are never cached). A host revoked behind the
/// controller's back (SQL on the live file, a backup copied over it) keeps its cached
/// credential until sluiced restarts.
final class HostCredentialCache: Sendable {
    struct Entry: Sendable {
        var secretHash: Data
        var host: HostID
        var expiresAtMs: Int64?
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var epoch: UInt64 = 0
    }

    private let state = Mutex(State())
    /// A bound on memory: past it the cache starts again empty (150,000 hosts fit).
    let capacity: Int

    init(capacity: Int = 250_000) {
        self.capacity = capacity
    }

    func entry(_ keyID: String) -> Entry? { state.withLock { $0.entries[keyID] } }

    /// Where a lookup started; `store` refuses an entry when a revocation came since.
    var epoch: UInt64 { state.withLock { $0.epoch } }

    func store(_ entry: Entry, keyID: String, readAt epoch: UInt64) {
        state.withLock { state in
            guard state.epoch == epoch else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[keyID] = entry
        }
    }

    /// Forgets everything: called by every revocation.
    func invalidate() {
        state.withLock { state in
            state.epoch &+= 1
            state.entries.removeAll()
        }
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// One cache per database file in this process (by device and inode, so every path to
    /// it, links included, finds the same one); a private one for an in-memory database.
    static func shared(forPath path: String) -> HostCredentialCache {
        var status = stat()
        guard path != ":memory:", !path.isEmpty, stat(path, &status) == 0 else { return HostCredentialCache() }
        let key = "\(status.st_dev):\(status.st_ino)"
        return registry.withLock { caches in
            if let cache = caches[key] { return cache }
            let cache = HostCredentialCache()
            caches[key] = cache
            return cache
        }
    }

    private static let registry = Mutex<[String: HostCredentialCache]>([:])
}
