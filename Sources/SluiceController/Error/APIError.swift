import Foundation
import Hummingbird
import SluiceAPI
import SluiceCore
import SluiceStore

/// An error the API answers with `{"error": {"code", "message"}}` and a fitting status.
struct APIError: HTTPResponseError, Equatable {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    /// Sent as `Retry-After` (429).
    var retryAfterSeconds: Int? = nil

    static func unauthenticated(_ message: String) -> APIError { APIError(status: .unauthorized, code: "unauthenticated", message: message) }
    /// A revoked host's own credential: 401 like any refused credential, with a code the agent
    /// acts on (it hands the host back to unattended-upgrades).
    static func hostRevoked(_ message: String) -> APIError { APIError(status: .unauthorized, code: APIErrorCode.hostRevoked, message: message) }
    static func forbidden(_ message: String) -> APIError { APIError(status: .forbidden, code: "forbidden", message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }
    static func conflict(_ message: String) -> APIError { APIError(status: .conflict, code: "conflict", message: message) }
    static func invalid(_ message: String) -> APIError { APIError(status: .badRequest, code: "invalid_request", message: message) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONEncoder().encode(ErrorResponse(code: code, message: message))
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"sluice\"" }
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The API's view of any error: known ones keep their meaning, anything else is a 500
    /// whose details stay in the controller's log.
    static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as StoreError:
            switch error {
            case .unauthenticated(let m): return .unauthenticated(m)
            case .hostRevoked(let m): return .hostRevoked(m)
            case .forbidden(let m): return .forbidden(m)
            case .notFound(let m): return .notFound(m)
            case .conflict(let m): return .conflict(m)
            case .invalid(let m): return .invalid(m)
            case .incompatibleSchema: return nil
            }
        case let error as InvalidInput:
            return .invalid(error.message)
        case let error as HTTPError:
            switch error.status {
            case .contentTooLarge:
                return APIError(status: .contentTooLarge, code: "payload_too_large", message: "request body is larger than the limit")
            case .notFound:
                return .notFound("no such route")
            case .methodNotAllowed:
                return APIError(status: .methodNotAllowed, code: "method_not_allowed", message: "method not allowed on this route")
            default:
                return APIError(status: error.status, code: "http_\(error.status.code)", message: error.body ?? error.status.reasonPhrase)
            }
        case let error as DecodingError:
            return .invalid(describe(error))
        case let error as any HTTPResponseError where error.status == .contentTooLarge:
            // NIO's NIOTooManyBytesError, from collecting a body past the limit.
            return APIError(status: .contentTooLarge, code: "payload_too_large", message: "request body is larger than the limit")
        default:
            return nil
        }
    }
}

/// `field.path: what was wrong`, one line, from a JSON decoding failure.
func describe(_ error: DecodingError) -> String {
    func path(_ codingPath: [any CodingKey]) -> String {
        let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "body" : text)
    }
    switch error {
    case .dataCorrupted(let context):
        if context.codingPath.isEmpty { return "body: not valid JSON" }
        return "\(path(context.codingPath)): \(context.debugDescription)"
    case .keyNotFound(let key, let context):
        return "\(path(context.codingPath + [key])): required field is missing"
    case .typeMismatch(let type, let context):
        return "\(path(context.codingPath)): expected \(jsonTypeName(type))"
    case .valueNotFound(let type, let context):
        return "\(path(context.codingPath)): expected \(jsonTypeName(type)), got null"
    @unknown default:
        return "body: invalid"
    }
}

private func jsonTypeName(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Bool.Type: "true or false"
    case is Int.Type, is Int64.Type, is Int32.Type: "a whole number"
    case is Double.Type, is Float.Type: "a number"
    default: String(describing: type).hasPrefix("Array") ? "a list" : (String(describing: type).hasPrefix("Dictionary") ? "an object" : "a value of type \(type)")
    }
}
