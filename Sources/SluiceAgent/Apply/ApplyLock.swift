#if canImport(Glibc)
import Glibc
#endif
import SluiceCore

/// The agent's apply lock: an exclusive `flock` on `apply.lock` in the state directory, held
/// for the whole of an apply or a recovery. The restart hold exists only while it is held, and
/// the kernel drops it when the agent dies, so a crashed agent never blocks the next one.
struct ApplyLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock, or fails at once when another apply holds it.
    /// - Parameter directory: the agent's state directory (created if missing, mode 0700).
    /// - Throws: ``InvalidInput`` saying why the lock cannot be taken.
    static func acquire(in directory: String) throws(InvalidInput) -> ApplyLock {
        try makeDirectory(directory)
        let path = directory + "/apply.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw InvalidInput("cannot open \(path): \(errnoText())") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? "another apply is running (\(path) is locked)" : "cannot lock \(path): \(errnoText())"
            close(descriptor)
            throw InvalidInput(reason)
        }
        return ApplyLock(descriptor: descriptor)
    }

    /// Releases the lock.
    func release() {
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

/// `mkdir -p` with mode 0700 for the directories the agent creates.
func makeDirectory(_ path: String) throws(InvalidInput) {
    var current = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        current += "/" + component
        if mkdir(current, 0o700) != 0 && errno != EEXIST {
            throw InvalidInput("cannot create \(current): \(errnoText())")
        }
    }
}

/// The text of the current `errno`.
func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
