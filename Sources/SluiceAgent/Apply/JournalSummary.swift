import SluiceCore

/// What the entries of one apply add up to, for recovery.
struct JournalSummary: Sendable {
    var assignmentID: String
    var last: ApplyJournalEntry.Phase
    var instructions: ApplyInstructions?
    var versionsBefore: [String: String] = [:]
    var saved: [SavedPackage] = []
    var services: [String] = []
    var afterRestart = false
    var preHooksStarted = false
    var rollbackStarted = false
    var bootID: String?
    var outcome: ApplyOutcome?
    var detail: String?

    init?(_ entries: [ApplyJournalEntry]) {
        guard let first = entries.first, let last = entries.last else { return nil }
        assignmentID = first.assignmentID
        self.last = last.phase
        for entry in entries {
            if let value = entry.instructions { instructions = value }
            if let value = entry.bootID { bootID = value }
            if entry.phase == .rollingBack { rollbackStarted = true }
            if let value = entry.versionsBefore { versionsBefore = value }
            if let value = entry.saved { saved = value }
            if let value = entry.services { services = value }
            if entry.phase == .restarting { afterRestart = true }
            if let value = entry.afterRestart { afterRestart = afterRestart || value }
            if entry.phase == .preHooks { preHooksStarted = true }
            if let value = entry.outcome { outcome = value }
            if let value = entry.detail { detail = value }
        }
    }
}
