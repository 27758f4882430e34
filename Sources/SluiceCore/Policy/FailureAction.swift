/// What a rollout does with the hosts that passed their apply and then failed health (policy
/// key `on_failure`). The rollout halts either way.
public enum FailureAction: String, Sendable, Codable, CaseIterable {
    /// Halt and leave the hosts as they are, for an operator (`sluicectl rollout revert`).
    case halt
    /// Halt and revert those hosts to their previous exact versions, as a revert rollout.
    case revert
}
