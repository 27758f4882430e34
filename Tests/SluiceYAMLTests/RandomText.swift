import SluiceCore

/// Fuzz input for the readers of this target: up to 2,000 random bytes on even rounds, and
/// as many characters drawn from `alphabet` (the format's own tokens) on odd ones.
func randomText(round: Int, alphabet: [UInt8], using random: inout SplitMix64) -> String {
    let count = Int.random(in: 0...2000, using: &random)
    let bytes: [UInt8] =
        round.isMultiple(of: 2)
        ? (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
        : (0..<count).map { _ in alphabet.randomElement(using: &random)! }
    return String(decoding: bytes, as: UTF8.self)
}
