import Foundation
import Hummingbird
import SluiceAPI

/// A JSON body with a status, for any `Encodable` value.
struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    let value: Value

    init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.value = value
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        APIJSON.response(status: status, body: ByteBuffer(bytes: try APIJSON.encode(value)))
    }
}

/// How the API writes JSON answers, for `JSONResponse` and `EncodedJSONResponse`.
enum APIJSON {
    /// Sorted keys, slashes unescaped.
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func response(status: HTTPResponse.Status, body: ByteBuffer) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }
}

/// A JSON body encoded once, for an answer that never changes (every heartbeat's).
struct EncodedJSONResponse: ResponseGenerator, Sendable {
    let body: ByteBuffer

    init(_ value: some Encodable) {
        // Encoding a fixed value of the API's own types cannot fail.
        body = ByteBuffer(bytes: (try? APIJSON.encode(value)) ?? Data("{}".utf8))
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        APIJSON.response(status: .ok, body: body)
    }
}

extension Request {
    static let jsonLimits = JSONLimits()

    /// Collects the body up to the context's limit (413 beyond it), checks its shape against
    /// `JSONLimits` (depth, string and list lengths) and decodes it as JSON;
    /// a decoding failure becomes a 400 naming the field, and so does what `StrictJSON`
    /// refuses (another Content-Type, an unknown property, a null).
    /// - Parameters:
    ///   - charge: told the body's size in bytes before any of it is parsed; it throws to
    ///     refuse a body whose cost is over a budget.
    ///   - lane: where the body is parsed, when not on the task's own thread: a large body
    ///     then never holds more than the lane's one thread.
    func decodeJSON<T: Codable & Sendable>(
        _ type: T.Type, context: SluiceRequestContext, lane: SerialLane? = nil, charge: (Int) throws -> Void = { _ in }
    ) async throws -> T {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { throw APIError.invalid("body: a JSON object is required") }
        try charge(buffer.readableBytes)
        try StrictJSON.checkContentType(self)
        let parse: @Sendable () throws -> T = {
            // Depth, string and list lengths first: a hostile shape costs the decoder nothing.
            try Self.jsonLimits.check(buffer.readableBytesView)
            // One pass: parsed, decoded, and refused if it holds a property the type does not.
            return try StrictJSONDecoder().decode(T.self, from: buffer.readableBytesView)
        }
        do {
            return try await lane?.run(parse) ?? parse()
        } catch let error as DecodingError {
            throw APIError.invalid(describe(error))
        } catch let error as StrictJSONError {
            throw APIError.invalid(error.message)
        }
    }
}

/// One thread of its own for costly work (parsing large inventories), so that such work
/// never holds more than one of the threads that serve every other request: on a 2-core
/// controller, heartbeats keep the other. A plain thread, not a Dispatch queue: a queue's work
/// waits behind every task queued on Dispatch's threads, and 200 agents reporting at once then
/// waited on each other's turn for tens of seconds.
final class SerialLane: @unchecked Sendable {
    /// Guards `work`.
    private let condition = NSCondition()
    private var work: [@Sendable () -> Void] = []

    init(label: String) {
        let thread = Thread { [self] in run() }
        thread.name = label
        thread.start()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            work.append { continuation.resume(with: Result { try body() }) }
            condition.signal()
            condition.unlock()
        }
    }

    private func run() {
        while true {
            condition.lock()
            while work.isEmpty { condition.wait() }
            let next = work.removeFirst()
            condition.unlock()
            next()
        }
    }
}
