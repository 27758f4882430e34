import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// Applies ``ConnectionAdmission`` to the controller's sockets: each accepted connection is
/// admitted, takes the place of an older unauthenticated one, or is closed at once; one that
/// has made no authenticated request `unauthenticatedTimeout` after it was accepted is
/// closed, whatever it is doing.
///
/// Together these keep the controller's descriptors below its open-files limit, so accept
/// never fails for want of one, and idle sockets from an address without a credential cost
/// a place only until someone needs it.
public final class ConnectionGuard: Sendable {
    struct State {
        var admission: ConnectionAdmission
        var channels: [ObjectIdentifier: ConnectionAdmission.ID] = [:]
        var byID: [ConnectionAdmission.ID: any Channel] = [:]
        var next: ConnectionAdmission.ID = 0
    }

    public let limits: ControllerSettings.ConnectionLimits
    private let state: Mutex<State>

    public init(_ limits: ControllerSettings.ConnectionLimits) {
        self.limits = limits
        state = Mutex(State(admission: ConnectionAdmission(maxConnections: limits.maxConnections, maxPerAddress: limits.maxPerAddress)))
    }

    /// Connections open now.
    public var openCount: Int { state.withLock { $0.admission.count } }

    /// Admits `channel`, closing those it displaces; false when it was refused and closed.
    func admit(_ channel: any Channel, logger: Logger) -> Bool {
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        let (id, decision, displaced) = state.withLock { state -> (ConnectionAdmission.ID, ConnectionAdmission.Decision, [any Channel]) in
            state.next += 1
            let id = state.next
            let decision = state.admission.opened(id, address: address)
            guard case .admit(let closing) = decision else { return (id, decision, []) }
            state.channels[ObjectIdentifier(channel)] = id
            state.byID[id] = channel
            return (id, decision, closing.compactMap { state.byID[$0] })
        }
        if case .refuse(let reason) = decision {
            logger.debug("connection from \(address) refused: \(reason)")
            channel.close(promise: nil)
            return false
        }
        if !displaced.isEmpty { logger.debug("closed \(displaced.count) unauthenticated connection(s) to admit one from \(address)") }
        for other in displaced { other.close(promise: nil) }
        let timeout = limits.unauthenticatedTimeout
        let cut = channel.eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let self, self.isWaiting(id) else { return }
            logger.debug("closed a connection from \(address): no authenticated request within \(timeout)")
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            cut.cancel()
            self?.closed(channel, id)
        }
        return true
    }

    /// The connection `channel` carried a request with a valid credential.
    func authenticated(_ channel: any Channel) {
        state.withLock { state in
            guard let id = state.channels[ObjectIdentifier(channel)] else { return }
            state.admission.authenticated(id)
        }
    }

    private func isWaiting(_ id: ConnectionAdmission.ID) -> Bool { state.withLock { $0.admission.isWaiting(id) } }

    private func closed(_ channel: any Channel, _ id: ConnectionAdmission.ID) {
        state.withLock { state in
            state.admission.closed(id)
            state.byID[id] = nil
            if state.channels[ObjectIdentifier(channel)] == id { state.channels[ObjectIdentifier(channel)] = nil }
        }
    }
}

/// A server child channel (HTTP/1, or TLS around it) whose connections pass a ``ConnectionGuard`` first.
struct GuardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let connections: ConnectionGuard

    /// Why a refused connection's setup failed (NIO drops it; nothing is logged above debug).
    struct Refused: Error {}

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard connections.admit(channel, logger: logger) else { return channel.eventLoop.makeFailedFuture(Refused()) }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
