import Synchronization
import SluiceAgent
import SluiceCore

/// Collects the step reports of an apply, in order.
final class StepRecorder: Sendable {
    private let steps = Mutex<[ApplyStepReport]>([])

    var reporter: ApplyReporter {
        { report in self.steps.withLock { $0.append(report) } }
    }

    var all: [ApplyStepReport] { steps.withLock { $0 } }
    var names: [ApplyStep] { all.map(\.step) }
    func first(_ step: ApplyStep) -> ApplyStepReport? { all.first { $0.step == step } }
}
