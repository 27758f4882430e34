import SluiceCore

/// Whether the agent sends the inventory it just read: when it differs from the last one the
/// controller accepted (packages, pending updates, labels, anything), or when that one is
/// older than `refresh`. Every report is still the full picture; an unchanged one is just not
/// sent again every minute (at 150,000 hosts that was most of the controller's work).
/// The refresh bounds how long a controller that lost a host's inventory (a database
/// restored from a backup) goes without it; a failed send is retried at the next interval.
struct InventoryResend {
    static let defaultRefresh: Duration = .seconds(3600)
    var refresh: Duration = InventoryResend.defaultRefresh
    private var last: (report: InventoryReport, at: ContinuousClock.Instant)?

    func needsSending(_ report: InventoryReport, now: ContinuousClock.Instant) -> Bool {
        guard let last else { return true }
        return last.report != report || now - last.at >= refresh
    }

    mutating func accepted(_ report: InventoryReport, at instant: ContinuousClock.Instant) {
        last = (report, instant)
    }
}
