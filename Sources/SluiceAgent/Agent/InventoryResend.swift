import SluiceAPI
import SluiceClient
import SluiceCore

/// Whether the agent sends the inventory it just read, and how: in full when it differs from
/// the last one the controller accepted (packages, pending updates, labels, anything); when
/// unchanged, nothing within `refresh`, and after it only the inventory's digest, which the
/// controller confirms it holds. Every report is still the full picture; an unchanged one is
/// just not sent again every minute (at 150,000 hosts that was most of the controller's work),
/// nor every hour. The refresh bounds how long a controller that lost a host's inventory (a
/// database restored from a backup) goes without it: it refuses the digest, and the agent sends
/// the full report at once. A failed send is retried at the next interval.
struct InventoryResend {
    static let defaultRefresh: Duration = .seconds(3600)
    var refresh: Duration = InventoryResend.defaultRefresh
    private var last: (report: InventoryReport, at: ContinuousClock.Instant)?

    /// What to do with an inventory just read.
    enum Action: Equatable {
        /// Unchanged since the controller accepted it, within the refresh: send nothing.
        case wait
        /// New or changed: the full report.
        case send
        /// Unchanged and the refresh is due: ask the controller to confirm it holds this digest.
        case confirm(digest: String)
    }

    /// What was done with an inventory (`deliver`), with the controller's answer.
    enum Delivery: Equatable {
        /// Unchanged within the refresh: nothing was sent.
        case notSent
        /// The full report, new or changed.
        case reported(ReportAccepted)
        /// Unchanged: the controller confirmed the digest.
        case confirmed(ReportAccepted)
        /// Unchanged, but the controller held another inventory or none: the full report.
        case reportedAfterRefusal(ReportAccepted)

        var accepted: ReportAccepted? {
            switch self {
            case .notSent: nil
            case .reported(let accepted), .confirmed(let accepted), .reportedAfterRefusal(let accepted): accepted
            }
        }
    }

    func action(for report: InventoryReport, now: ContinuousClock.Instant) -> Action {
        guard let last, last.report == report else { return .send }
        guard now - last.at >= refresh else { return .wait }
        return .confirm(digest: InventoryDigest.hex(of: report))
    }

    mutating func accepted(_ report: InventoryReport, at instant: ContinuousClock.Instant) {
        last = (report, instant)
    }

    /// Does `action(for:now:)` through `receiver`: a refused confirmation is followed by the
    /// full report at once. Only what the controller accepted (report or confirmation) moves
    /// the baseline; a failure throws and leaves it, so the next interval tries again.
    mutating func deliver(
        _ report: InventoryReport, host: HostID, to receiver: some InventoryReceiver, now: ContinuousClock.Instant
    ) async throws -> Delivery {
        let delivery: Delivery
        switch action(for: report, now: now) {
        case .wait:
            return .notSent
        case .send:
            delivery = .reported(try await receiver.reportInventory(host: host, report))
        case .confirm(let digest):
            switch try await receiver.confirmInventory(host: host, InventoryConfirmation(digest: digest, labels: report.labels)) {
            case .accepted(let accepted):
                delivery = .confirmed(accepted)
            case .differs:
                delivery = .reportedAfterRefusal(try await receiver.reportInventory(host: host, report))
            }
        }
        accepted(report, at: now)
        return delivery
    }
}
