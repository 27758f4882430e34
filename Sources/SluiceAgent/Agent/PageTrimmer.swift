import Logging
import SluiceProcess

/// Hands back the pages of code the agent touched only while starting (see `StartupPages`):
/// once its first heartbeat and its first inventory check are done, and again after each
/// inventory read and each apply. The real agent does this; the simulator's many agents in one process do not.
actor PageTrimmer {
    enum Step: Hashable { case heartbeat, inventory }

    private var settled: Set<Step> = []
    private var startupDone = false
    let logger: Logger
    let release: @Sendable () -> StartupPages.Released

    init(logger: Logger, release: @escaping @Sendable () -> StartupPages.Released = { StartupPages.release() }) {
        self.logger = logger
        self.release = release
    }

    /// One step of start-up has completed once; the last of them trims. After start-up, each
    /// inventory read trims again: it runs, once a report interval, code the heartbeats do not
    /// (starting the `--print-inventory` child, reading and decoding its report), and heap
    /// for a few thousand packages. The heartbeat that follows maps its own pages back (about
    /// a hundred minor faults).
    func completed(_ step: Step) {
        guard !startupDone else {
            if step == .inventory { trim(after: "inventory read") }
            return
        }
        settled.insert(step)
        if settled.count == 2 {
            startupDone = true
            trim(after: "start-up")
        }
    }

    /// An apply finished: the apt, dpkg and journal code it ran is not needed while idle.
    func applied() { trim(after: "apply") }

    /// How many trims ran (for tests).
    private(set) var trims = 0

    private func trim(after what: String) {
        let released = release()
        trims += 1
        let message: Logger.Message =
            "\(what) over: code pages used only during it handed back (resident \(released.residentBefore >> 10) KiB -> \(released.residentAfter >> 10) KiB)"
        if what == "start-up" { logger.info(message) } else { logger.debug(message) }
    }
}
