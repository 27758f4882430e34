import SluiceAPI
import SluiceClient
import SluiceCore

/// Where the agent's inventory goes: the controller's API (`SluiceHTTPClient`), or a fake in tests.
protocol InventoryReceiver: Sendable {
    func reportInventory(host: HostID, _ report: InventoryReport) async throws -> ReportAccepted
    func confirmInventory(host: HostID, _ confirmation: InventoryConfirmation) async throws -> InventoryConfirmationOutcome
}

extension SluiceHTTPClient: InventoryReceiver {}
