/// Labels an agent reported after enrollment that differ from the ones its host carries.
///
/// Labels decide which wave a host is in and which redundancy group it backs up, so a host
/// never changes its own: the controller keeps using `approved` until an operator approves
/// the request (or sets other labels), and a compromised host cannot move itself out of a
/// canary group.
public struct LabelChange: Sendable, Codable, Equatable {
    /// The labels the controller uses for this host.
    public var approved: Labels
    /// What the agent reports.
    public var requested: Labels
    public var requestedAtMs: Int64
    /// Set when an operator rejected the request; the agent keeps its approved labels.
    public var rejectedAtMs: Int64?

    public init(approved: Labels, requested: Labels, requestedAtMs: Int64, rejectedAtMs: Int64? = nil) {
        self.approved = approved
        self.requested = requested
        self.requestedAtMs = requestedAtMs
        self.rejectedAtMs = rejectedAtMs
    }

    /// One line for the agent's log and the operator.
    public func summary(host: HostID) -> String {
        if rejectedAtMs != nil {
            return "an operator rejected the change of labels to \(requested.description.isEmpty ? "(none)" : requested.description); the controller keeps \(approved.description.isEmpty ? "(none)" : approved.description)"
        }
        return "labels \(requested.description.isEmpty ? "(none)" : requested.description) differ from the approved \(approved.description.isEmpty ? "(none)" : approved.description) and wait for an operator: sluicectl hosts labels \(host) --approve --reason ..."
    }
}

/// What an operator decides about a host's labels.
public enum LabelDecision: Sendable, Equatable {
    /// Apply the labels the agent asked for: exactly these, the ones the operator was shown.
    /// If the agent's request is no longer these labels, nothing is applied.
    case approve(Labels)
    /// Keep the current labels; the agent's request is remembered as rejected.
    case reject
    /// Replace the host's labels with exactly these (any request is settled by it).
    case set(Labels)
}
