/// Waits for a condition, never for a guessed time: checks `condition` every `interval`
/// until it holds or `timeout` passes. The interval is how often the current state is read,
/// not a synchronisation.
/// - Returns: whether the condition held before the deadline.
public func eventually(
    within timeout: Duration, every interval: Duration = .milliseconds(10), _ condition: () async throws -> Bool
) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return true }
        try await clock.sleep(for: interval)
    }
    return try await condition()
}
