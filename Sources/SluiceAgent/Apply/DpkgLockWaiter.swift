#if canImport(Glibc)
import Glibc
#endif

/// Waits until no process holds dpkg's or apt's locks in a root, the way dpkg itself takes
/// them (`fcntl` write locks on `lock-frontend` and `lock`).
///
/// Recovery needs this: when the agent is killed during an install, the apt and dpkg it
/// started run on in their own session, and must finish before anything else touches dpkg.
struct DpkgLockWaiter: Sendable {
    static let lockFiles = ["/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/cache/apt/archives/lock"]

    let root: HostRoot

    /// Whether some process holds one of the locks now.
    var isLocked: Bool {
        Self.lockFiles.contains { Self.isHeld(root.file($0)) }
    }

    /// Polls every 200 ms until the locks are free or `timeout` passes.
    /// - Returns: `true` when the locks are free.
    func waitUntilFree(timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while isLocked {
            if clock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return true
    }

    private static func isHeld(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var request = Glibc.flock()
        request.l_type = Int16(F_WRLCK)
        request.l_whence = Int16(SEEK_SET)
        request.l_start = 0
        request.l_len = 0
        guard fcntl(descriptor, F_GETLK, &request) == 0 else { return false }
        return request.l_type != Int16(F_UNLCK)
    }
}
