import Logging
import SluiceCore

extension Agent {
    /// The labels this agent is configured with, sent with every report; `nil` when it has
    /// none, so an agent started without `--label` does not ask to drop its host's labels.
    func configuredLabels() throws -> Labels? {
        configuration.labels.isEmpty ? nil : try Labels(validating: configuration.labels)
    }

    /// The controller never applies labels an agent reports after enrollment: it says so,
    /// and the agent says so in its log, once per report, so the operator sees why the host
    /// still updates with its old group.
    func logLabelChange(_ change: LabelChange?, host: HostID) {
        guard let change else { return }
        if change.rejectedAtMs != nil {
            logger.warning("\(change.summary(host: host))")
        } else {
            logger.warning("controller kept this host's labels: \(change.summary(host: host))")
        }
    }
}
