import Foundation
import Hummingbird
import SluiceCore

/// What `openapi/sluice-v1.yaml` says of every request body besides its shape (which
/// `JSONLimits` and `StrictJSONDecoder` check): it is sent as `application/json`.
enum StrictJSON {
    /// Refuses a body not sent as `application/json` (any parameters, such as a charset, allowed).
    static func checkContentType(_ request: Request) throws {
        let value = request.headers[.contentType] ?? ""
        // What every agent sends, without splitting and lowercasing it on each request.
        if value == "application/json" || value == "application/json; charset=utf-8" { return }
        let mediaType = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard mediaType == "application/json" else {
            throw APIError.invalid(
                value.isEmpty ? "Content-Type: send the body as application/json" : "Content-Type: \(quoted(value)) is not application/json")
        }
    }
}
