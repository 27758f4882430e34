import SluiceAPI

/// The controller's answer to an inventory confirmation (`SluiceHTTPClient.confirmInventory`).
public enum InventoryConfirmationOutcome: Sendable, Equatable {
    /// It holds the same inventory: recorded like an unchanged report.
    case accepted(ReportAccepted)
    /// It holds another inventory for the host, or none: nothing was recorded; the agent
    /// must send the full report.
    case differs
}
