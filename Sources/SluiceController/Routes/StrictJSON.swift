import Foundation
import Hummingbird
import SluiceCore

/// What `openapi/sluice-v1.yaml` says of every request body and `JSONDecoder` does not check
/// by itself: the body is sent as `application/json`, its objects are closed
/// (`additionalProperties: false`: a misspelt `expiresInSecond` must not silently give a
/// token that never expires), and no property is `null` (optional ones are left out).
enum StrictJSON {
    /// Refuses a body not sent as `application/json` (any parameters, such as a charset, allowed).
    static func checkContentType(_ request: Request) throws {
        let value = request.headers[.contentType] ?? ""
        let mediaType = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard mediaType == "application/json" else {
            throw APIError.invalid(
                value.isEmpty ? "Content-Type: send the body as application/json" : "Content-Type: \(quoted(value)) is not application/json")
        }
    }

    /// Refuses a body holding a property that `decoded` (what the decoder made of it) does not:
    /// one the type does not have, or one given as `null`. Names the first such property.
    static func checkNoUnknownProperties(_ body: Data, decoded: some Encodable) throws {
        // Fails closed: a body this parser cannot read (one the decoder was lenient with) is
        // refused rather than let through unchecked.
        guard let input = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else {
            throw APIError.invalid("body: not valid JSON")
        }
        let echo = try JSONSerialization.jsonObject(with: JSONEncoder().encode(decoded), options: [.fragmentsAllowed])
        if let problem = firstUnknown(input, in: echo, path: "") { throw APIError.invalid(problem) }
    }

    private static func firstUnknown(_ input: Any, in echo: Any, path: String) -> String? {
        if let object = input as? [String: Any] {
            let known = echo as? [String: Any] ?? [:]
            for key in object.keys.sorted() {
                let field = path.isEmpty ? key : "\(path).\(key)"
                let value = object[key]!
                if value is NSNull { return "\(field): must not be null; leave the property out instead" }
                guard let counterpart = known[key] else { return "\(field): unknown property" }
                if let problem = firstUnknown(value, in: counterpart, path: field) { return problem }
            }
        } else if let array = input as? [Any] {
            let known = echo as? [Any] ?? []
            for (index, element) in array.enumerated() {
                let field = "\(path.isEmpty ? "body" : path)[\(index)]"
                if element is NSNull { return "\(field): must not be null" }
                guard index < known.count else { break }
                if let problem = firstUnknown(element, in: known[index], path: field) { return problem }
            }
        }
        return nil
    }
}
