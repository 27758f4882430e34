import SluiceCore

/// A numeric id in a request path (`{rolloutID}`, `{assignmentID}`), read one way only.
///
/// `Int64(_:)` alone takes `01` and `+1` for 1, so one record answered to many paths, and a
/// path that named nothing reached the store. The controller writes ids in plain decimal and
/// reads them back the same way: digits only, no sign, no leading zero, no spaces, at most
/// `Int64.max`.
public enum PathID {
    /// The id `text` spells, or an error naming `what` and the text.
    /// - Parameters:
    ///   - text: the path parameter as the router gives it.
    ///   - what: the id's name in messages: `rollout id`, `assignment id`.
    public static func parse(_ text: some StringProtocol, naming what: String) throws(InvalidInput) -> Int64 {
        let digits = text.utf8
        guard let first = digits.first, first != UInt8(ascii: "0"),
            digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let id = Int64(String(text))
        else {
            throw InvalidInput(
                "path: \(what) must be a whole number from 1 to \(Int64.max) in plain digits (no sign, leading zero or space), not \(quoted(String(text)))"
            )
        }
        return id
    }
}
