import Testing

@testable import SluiceController

/// Which connections the controller keeps when its caps are reached (issue 22, finding 1).
@Suite struct ConnectionAdmissionTests {
    @Test func aConnectionOverTheTotalCapDisplacesTheOldestUnauthenticatedOne() {
        var admission = ConnectionAdmission(maxConnections: 3, maxPerAddress: 10)
        #expect(admission.opened(1, address: "192.0.2.1") == .admit(closing: []))
        #expect(admission.opened(2, address: "192.0.2.2") == .admit(closing: []))
        #expect(admission.opened(3, address: "192.0.2.3") == .admit(closing: []))
        admission.authenticated(1)
        #expect(admission.opened(4, address: "192.0.2.4") == .admit(closing: [2]))
        #expect(admission.count == 3)
        #expect(!admission.isWaiting(2))
        #expect(admission.isWaiting(4))
    }

    @Test func authenticatedConnectionsAreNeverDisplacedAndANewOneIsRefusedWhenAllAre() {
        var admission = ConnectionAdmission(maxConnections: 2, maxPerAddress: 10)
        _ = admission.opened(1, address: "192.0.2.1")
        _ = admission.opened(2, address: "192.0.2.2")
        admission.authenticated(1)
        admission.authenticated(2)
        guard case .refuse(let reason) = admission.opened(3, address: "192.0.2.3") else {
            Issue.record("expected a refusal")
            return
        }
        #expect(reason == "2 connections open already (max_connections)")
        #expect(admission.count == 2)
        admission.closed(1)
        #expect(admission.opened(4, address: "192.0.2.3") == .admit(closing: []))
    }

    @Test func anAddressOverItsCapDisplacesOnlyItsOwnOldestUnauthenticatedConnection() {
        var admission = ConnectionAdmission(maxConnections: 100, maxPerAddress: 2)
        _ = admission.opened(1, address: "192.0.2.9")
        _ = admission.opened(2, address: "198.51.100.7")
        _ = admission.opened(3, address: "198.51.100.7")
        #expect(admission.opened(4, address: "198.51.100.7") == .admit(closing: [2]))
        admission.authenticated(3)
        admission.authenticated(4)
        guard case .refuse(let reason) = admission.opened(5, address: "198.51.100.7") else {
            Issue.record("expected a refusal")
            return
        }
        #expect(reason == "2 connections from 198.51.100.7 already (max_connections_per_address)")
        #expect(admission.isWaiting(1))
        #expect(admission.opened(6, address: "192.0.2.9") == .admit(closing: []))
    }

    @Test func anIPv6SlashSixtyFourCountsAsOneAddress() {
        var admission = ConnectionAdmission(maxConnections: 100, maxPerAddress: 1)
        _ = admission.opened(1, address: "2001:db8:1:2::10")
        #expect(admission.opened(2, address: "2001:db8:1:2::99") == .admit(closing: [1]))
        #expect(admission.opened(3, address: "2001:db8:1:3::10") == .admit(closing: []))
    }

    @Test func loopbackIsNotCappedPerAddressButCountsTowardsTheTotal() {
        var admission = ConnectionAdmission(maxConnections: 4, maxPerAddress: 1)
        for id in 1...4 { #expect(admission.opened(UInt64(id), address: "127.0.0.1") == .admit(closing: [])) }
        #expect(admission.opened(5, address: "127.0.0.1") == .admit(closing: [1]))
    }

    @Test func closedAndAuthenticatedConnectionsDoNotAccumulate() {
        var admission = ConnectionAdmission(maxConnections: 10, maxPerAddress: 10)
        for id in 1...10_000 {
            _ = admission.opened(UInt64(id), address: "192.0.2.1")
            if id % 2 == 0 { admission.authenticated(UInt64(id)) }
            admission.closed(UInt64(id))
        }
        #expect(admission.count == 0)
        #expect(admission.opened(10_001, address: "192.0.2.1") == .admit(closing: []))
        #expect(admission.pendingArrivals <= 66)
    }
}
