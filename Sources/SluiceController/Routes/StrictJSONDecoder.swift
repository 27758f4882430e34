/// Decodes a request body in one pass and refuses what `openapi/sluice-v1.yaml` forbids and
/// `JSONDecoder` lets through: a property the type does not have (objects are closed:
/// `additionalProperties: false`, so a misspelt `expiresInSecond` cannot give a token that
/// never expires), a property given twice, and `null` anywhere (optional properties are left
/// out instead).
///
/// The body is parsed once into a tree; decoding marks each property it reads; a property
/// left unmarked is unknown. (It replaced decoding with `JSONDecoder` and then parsing the body
/// and the re-encoded value again with `JSONSerialization` to compare their keys: half of the
/// controller's CPU on inventory reports.) Errors are `DecodingError`s with their coding path,
/// like `JSONDecoder`'s, or `StrictJSONError` for what is not a decoding error.
///
/// The shape limits (depth, lengths) are checked on the bytes before, by `JSONLimits`: the
/// parser's recursion is bounded by them.
struct StrictJSONDecoder {
    func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws -> JSONNode {
            var parser = JSONTreeParser(buffer)
            return try parser.parseDocument()
        }
        let root = try bytes.withContiguousStorageIfAvailable(parse) ?? Array(bytes).withUnsafeBufferPointer(parse)
        let value = try TreeDecoder(node: root, path: nil).decodeValue(T.self)
        if let problem = root.firstUnreadProperty(path: "") { throw StrictJSONError(message: problem) }
        return value
    }
}

/// A body refused for what it is, not for what the type expected: the message names the place.
struct StrictJSONError: Error, Equatable {
    var message: String
}

/// A parsed JSON value. Objects are reference types so that decoding can mark what it read.
enum JSONNode {
    case object(JSONObject)
    case array([JSONNode])
    case string(String)
    /// The number as written (checked against JSON's grammar), converted when decoded.
    case number(String)
    case bool(Bool)

    var kind: String {
        switch self {
        case .object: "an object"
        case .array: "a list"
        case .string: "a string"
        case .number: "a number"
        case .bool: "true or false"
        }
    }

    /// The first property (in document order) that decoding did not read, as `a.b[2].c: ...`.
    func firstUnreadProperty(path: String) -> String? {
        switch self {
        case .object(let object):
            for (index, key) in object.keys.enumerated() {
                let field = path.isEmpty ? key : "\(path).\(key)"
                guard object.read[index] else { return "\(field): unknown property" }
                if let problem = object.values[index].firstUnreadProperty(path: field) { return problem }
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                if let problem = element.firstUnreadProperty(path: "\(path.isEmpty ? "body" : path)[\(index)]") { return problem }
            }
        case .string, .number, .bool:
            break
        }
        return nil
    }
}

final class JSONObject {
    let keys: [String]
    let values: [JSONNode]
    /// Which properties decoding read.
    var read: [Bool]
    /// Objects with more keys than this get an index; smaller ones are searched in order.
    static let indexedAbove = 16
    /// Key -> position, for large objects only: the parser builds it as it checks for duplicates.
    private let index: [String: Int]?

    init(keys: [String], values: [JSONNode], index: [String: Int]? = nil) {
        self.keys = keys
        self.values = values
        self.read = Array(repeating: false, count: keys.count)
        self.index = index
    }

    func position(of key: String) -> Int? {
        if let index { return index[key] }
        return keys.firstIndex(of: key)
    }
}

/// RFC 8259 JSON, strictly: no comments, no trailing commas, no leading zeros, no lone
/// surrogates, no control characters in strings, valid UTF-8; duplicate keys and nulls refused.
struct JSONTreeParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var offset = 0
    /// The keys and indices leading to where the parser is, for messages only.
    private var path: [String] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws -> JSONNode {
        let value = try parseValue()
        skipWhitespace()
        guard offset == bytes.count else { throw invalid("unexpected text after the JSON value") }
        return value
    }

    private func invalid(_ what: String) -> StrictJSONError {
        StrictJSONError(message: "body: not valid JSON (\(what) at byte \(offset))")
    }

    private var place: String { path.isEmpty ? "body" : path.joined() }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    /// - Parameter inList: the value is a list's element (for the message about a null).
    private mutating func parseValue(inList: Bool = false) throws -> JSONNode {
        skipWhitespace()
        guard offset < bytes.count else { throw invalid("unexpected end") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            throw StrictJSONError(message: inList ? "\(place): must not be null" : "\(place): must not be null; leave the property out instead")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        default:
            throw invalid("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - offset >= count,
            UnsafeBufferPointer(start: literal.utf8Start, count: count).elementsEqual(bytes[offset..<offset + count])
        else { throw invalid("unexpected character") }
        offset += count
    }

    private mutating func parseObject() throws -> JSONNode {
        offset += 1
        var keys: [String] = []
        var values: [JSONNode] = []
        // Duplicates: a linear search in a small object, an index in a large one (kept for decoding).
        var index: [String: Int]?
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            return .object(JSONObject(keys: [], values: []))
        }
        while true {
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw invalid("expected a property name") }
            let key = try parseString()
            let field = path.isEmpty ? key : ".\(key)"
            let duplicate: Bool
            if keys.count < JSONObject.indexedAbove {
                duplicate = keys.contains(key)
            } else {
                if index == nil { index = Dictionary(uniqueKeysWithValues: zip(keys, keys.indices)) }
                duplicate = index?.updateValue(keys.count, forKey: key) != nil
            }
            guard !duplicate else { throw StrictJSONError(message: "\((path + [field]).joined()): property given twice") }
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw invalid("expected ':'") }
            offset += 1
            path.append(field)
            values.append(try parseValue())
            path.removeLast()
            keys.append(key)
            skipWhitespace()
            guard offset < bytes.count else { throw invalid("unexpected end") }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            guard bytes[offset] == UInt8(ascii: "}") else { throw invalid("expected ',' or '}'") }
            offset += 1
            return .object(JSONObject(keys: keys, values: values, index: index))
        }
    }

    private mutating func parseArray() throws -> JSONNode {
        offset += 1
        var elements: [JSONNode] = []
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            return .array([])
        }
        while true {
            path.append(path.isEmpty ? "body[\(elements.count)]" : "[\(elements.count)]")
            elements.append(try parseValue(inList: true))
            path.removeLast()
            skipWhitespace()
            guard offset < bytes.count else { throw invalid("unexpected end") }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            guard bytes[offset] == UInt8(ascii: "]") else { throw invalid("expected ',' or ']'") }
            offset += 1
            return .array(elements)
        }
    }

    private mutating func parseNumber() throws -> String {
        let start = offset
        func digits() -> Int {
            let from = offset
            while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
            return offset - from
        }
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        guard offset < bytes.count else { throw invalid("incomplete number") }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
        } else if digits() == 0 {
            throw invalid("incomplete number")
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard digits() > 0 else { throw invalid("incomplete number") }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard digits() > 0 else { throw invalid("incomplete number") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
    }

    /// Reads a string starting at its opening quote.
    private mutating func parseString() throws -> String {
        offset += 1
        let start = offset
        // The common case: no escapes, so the bytes are the string.
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self) else {
                    throw invalid("a string that is not UTF-8")
                }
                offset += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw invalid("a control character in a string") }
            offset += 1
        }
        var decoded = Array(bytes[start..<offset])
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: decoded, as: UTF8.self) else { throw invalid("a string that is not UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                guard offset < bytes.count else { throw invalid("unexpected end") }
                let escape = bytes[offset]
                offset += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard bytes.count - offset >= 6, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                            throw invalid("a lone surrogate in a \\u escape")
                        }
                        offset += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw invalid("a lone surrogate in a \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw invalid("a lone surrogate in a \\u escape")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw invalid("an invalid \\u escape") }
                    decoded.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw invalid("an invalid escape")
                }
            default:
                guard byte >= 0x20 else { throw invalid("a control character in a string") }
                decoded.append(byte)
            }
        }
        throw invalid("an unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard bytes.count - offset >= 4 else { throw invalid("an incomplete \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw invalid("an invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }
}

/// Where a value is, as a chain back to the root: one small allocation per value decoded
/// instead of a copy of the whole coding path, which is built only for an error.
final class CodingPathLink {
    let parent: CodingPathLink?
    let key: any CodingKey

    init(parent: CodingPathLink?, key: any CodingKey) {
        self.parent = parent
        self.key = key
    }

    static func codingPath(_ link: CodingPathLink?) -> [any CodingKey] {
        var keys: [any CodingKey] = []
        var link = link
        while let current = link {
            keys.append(current.key)
            link = current.parent
        }
        return keys.reversed()
    }
}

/// A `Decoder` over a parsed tree that marks every property it reads.
struct TreeDecoder: Decoder {
    let node: JSONNode
    let path: CodingPathLink?
    var codingPath: [any CodingKey] { CodingPathLink.codingPath(path) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = node else { throw mismatch([String: Any].self) }
        return KeyedDecodingContainer(TreeKeyedContainer<Key>(object: object, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = node else { throw mismatch([Any].self) }
        return TreeUnkeyedContainer(elements: elements, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func mismatch(_ type: Any.Type) -> DecodingError {
        DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(type), found \(node.kind)"))
    }

    /// Decodes `T` from this node: the standard library's scalars directly, anything else
    /// through its `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        // Metatype comparisons, not dynamic casts: this runs for every value of every body.
        if T.self == String.self { return try decode(String.self) as! T }
        if T.self == Bool.self { return try decode(Bool.self) as! T }
        if T.self == Int.self { return try decode(Int.self) as! T }
        if T.self == Int64.self { return try decode(Int64.self) as! T }
        if T.self == Double.self { return try decode(Double.self) as! T }
        return try T(from: self)
    }

    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        // Whole numbers only, as written: "1.0" and "1e2" are not whole numbers here.
        guard case .number(let text) = node else { throw mismatch(type) }
        guard let value = I(text, radix: 10) else {
            if text.allSatisfy({ $0 == "-" || $0.isASCII && $0.isNumber }) {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(text) is out of range"))
            }
            throw mismatch(type)
        }
        return value
    }

    func floatingPoint<F: BinaryFloatingPoint & LosslessStringConvertible>(_ type: F.Type) throws -> F {
        guard case .number(let text) = node, let value = F(text), value.isFinite else { throw mismatch(type) }
        return value
    }
}

extension TreeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { false }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let value) = node else { throw mismatch(type) }
        return value
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let value) = node else { throw mismatch(type) }
        return value
    }
    func decode(_ type: Double.Type) throws -> Double { try floatingPoint(type) }
    func decode(_ type: Float.Type) throws -> Float { try floatingPoint(type) }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type) }
}

struct TreeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let path: CodingPathLink?
    var codingPath: [any CodingKey] { CodingPathLink.codingPath(path) }

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object.position(of: key.stringValue) != nil }

    /// The decoder of `key`'s value, which is marked read.
    private func child(_ key: Key) throws -> TreeDecoder {
        guard let position = object.position(of: key.stringValue) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no property \(key.stringValue)"))
        }
        object.read[position] = true
        return TreeDecoder(node: object.values[position], path: CodingPathLink(parent: path, key: key))
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        _ = try child(key)
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeValue(type) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        return try child(key).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }

    func superDecoder() throws -> any Decoder {
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "super decoders are not supported"))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

struct TreeUnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONNode]
    let path: CodingPathLink?
    var codingPath: [any CodingKey] { CodingPathLink.codingPath(path) }
    var currentIndex = 0

    init(elements: [JSONNode], path: CodingPathLink?) {
        self.elements = elements
        self.path = path
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> TreeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                Any.self, .init(codingPath: codingPath + [IndexKey(currentIndex)], debugDescription: "the list has no more elements"))
        }
        defer { currentIndex += 1 }
        return TreeDecoder(node: elements[currentIndex], path: CodingPathLink(parent: path, key: IndexKey(currentIndex)))
    }

    mutating func decodeNil() throws -> Bool { false }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

/// The position of a list element in a coding path.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}
