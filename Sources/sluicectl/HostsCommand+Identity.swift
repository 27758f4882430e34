import Foundation
import ArgumentParser
import SluiceAPI
import SluiceClient
import SluiceCore

extension HostsCommand {
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a host (needs an admin token): its secret stops working at once and its assignments are cancelled.",
            discussion: "A revoked host id never enrolls again; re-enroll the machine under a new host id.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The host id.") var host: String
        @Option(help: "Why, for the audit log.") var reason: String

        func run() async throws {
            let answer = try await global.client().revokeHost(try HostID(parsing: host), reason: reason)
            try global.emit(answer) {
                var out = "revoked host \(answer.hostID): \(answer.cancelledAssignments) assignment(s) cancelled\n"
                if answer.failedAssignments > 0 {
                    out += "\(answer.failedAssignments) assignment(s) were being applied and are marked failed (outcome unknown): "
                    out += "they hold their group until `sluicectl hosts resolve \(answer.hostID) --reason ...`\n"
                }
                return out
            }
        }
    }

    struct LabelsCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "labels",
            abstract: "Show a host's labels and the change its agent asks for; approve or reject it, or set labels (needs an operator token).",
            discussion: """
                An agent never changes its own labels after enrollment: labels it reports that differ are kept
                aside until an operator decides here. Open rollouts keep the waves they were planned with.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The host id.") var host: String
        @Flag(help: "Apply the labels the agent asks for, exactly as shown now (refused if its request changes meanwhile).") var approve = false
        @Flag(help: "Keep the current labels; the agent's request is remembered as rejected.") var reject = false
        @Option(name: .customLong("set"), help: "Set a label, key=value (repeatable; other labels are kept).") var set: [String] = []
        @Option(name: .customLong("unset"), help: "Remove a label by key (repeatable).") var unset: [String] = []
        @Option(help: "Why, for the audit log (required to change anything).") var reason: String?

        func validate() throws {
            let actions = [approve, reject, !set.isEmpty || !unset.isEmpty].filter { $0 }.count
            guard actions <= 1 else { throw ValidationError("use one of --approve, --reject, or --set/--unset") }
            if actions == 1, (reason ?? "").isEmpty { throw ValidationError("--reason is required to change a host's labels") }
            if actions == 0, reason != nil { throw ValidationError("--reason without --approve, --reject, --set or --unset changes nothing") }
        }

        func run() async throws {
            let id = try HostID(parsing: host)
            let client = try global.client()
            let reason = self.reason ?? ""
            let request: HostLabelsRequest
            if approve {
                // Approve what is shown here, and nothing else: the controller refuses if the
                // agent's request changed in between.
                guard let pending = try await client.host(id).summary.pendingLabels else {
                    throw InvalidInput("host \(id) asks for no label change")
                }
                FileHandle.standardError.write(Data("approving labels \(pending.description.isEmpty ? "(none)" : pending.description) for \(id)\n".utf8))
                request = HostLabelsRequest(action: .approve, labels: pending, reason: reason)
            } else if reject {
                request = HostLabelsRequest(action: .reject, reason: reason)
            } else if !set.isEmpty || !unset.isEmpty {
                var values = try await client.host(id).summary.labels.values
                for key in unset {
                    guard values.removeValue(forKey: key) != nil else { throw InvalidInput("host \(id) has no label \(quoted(key)) to unset") }
                }
                for text in set {
                    let (key, value) = try Labels.parseAssignment(text)
                    values[key] = value
                }
                request = HostLabelsRequest(action: .set, labels: try Labels(validating: values), reason: reason)
            } else {
                let summary = try await client.host(id).summary
                try global.emit(summary) {
                    "labels:  \(summary.labels.description.isEmpty ? "(none)" : summary.labels.description)\n"
                        + "pending: \(summary.pendingLabels.map { $0.description.isEmpty ? "(none)" : $0.description } ?? "-")\n"
                }
                return
            }
            let answer = try await client.decideLabels(host: id, request)
            try global.emit(answer) {
                answer.labels == answer.previousLabels
                    ? "kept labels of \(answer.hostID): \(answer.labels.description.isEmpty ? "(none)" : answer.labels.description)\n"
                    : "labels of \(answer.hostID): \(answer.previousLabels.description.isEmpty ? "(none)" : answer.previousLabels.description) -> \(answer.labels.description.isEmpty ? "(none)" : answer.labels.description)\n"
            }
        }
    }
}
