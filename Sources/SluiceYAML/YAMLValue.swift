import SluiceCore
import Yams

/// A YAML node with its place in the file, read strictly: every error names the file,
/// line and column, unknown keys are errors, and types are never guessed.
public struct YAMLValue {
    let node: Node
    public let file: String
    /// Dotted path from the document root, such as `waves[1].soak`.
    public let path: String

    /// Parses a whole document. An empty document is an empty mapping.
    public static func load(_ text: String, file: String) throws(InvalidInput) -> YAMLValue {
        guard text.utf8.count <= 1 << 20 else { throw InvalidInput("\(file): larger than 1 MiB") }
        do {
            let node = try Yams.compose(yaml: text) ?? Node.mapping(Node.Mapping([]))
            return YAMLValue(node: node, file: file, path: "")
        } catch let error as YamlError {
            throw InvalidInput("\(file):\(oneLine(error))")
        } catch {
            throw InvalidInput("\(file): \(error)")
        }
    }

    /// `file:line:column`.
    public var location: String {
        guard let mark = node.mark else { return file }
        return "\(file):\(mark.line):\(mark.column)"
    }

    /// An error at this node: `file:line:column: path: message`.
    public func error(_ message: String) -> InvalidInput {
        InvalidInput(path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)")
    }

    /// The mapping's entries, refusing keys outside `allowed` and duplicate keys.
    public func mapping(allowed: [String]) throws(InvalidInput) -> [String: YAMLValue] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping of keys to values") }
        var out: [String: YAMLValue] = [:]
        for (keyNode, valueNode) in mapping {
            let keyValue = YAMLValue(node: keyNode, file: file, path: path)
            guard case .scalar(let scalar) = keyNode else { throw keyValue.error("keys must be plain strings") }
            let key = scalar.string
            guard allowed.contains(key) else {
                throw keyValue.error("unknown key \(quoted(key)) (expected one of: \(allowed.joined(separator: ", ")))")
            }
            guard out[key] == nil else { throw keyValue.error("key \(quoted(key)) appears twice") }
            out[key] = YAMLValue(node: valueNode, file: file, path: path.isEmpty ? key : "\(path).\(key)")
        }
        return out
    }

    public func string() throws(InvalidInput) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a string") }
        return scalar.string
    }

    public func int() throws(InvalidInput) -> Int {
        guard case .scalar = node, let value = node.int else { throw error("expected a whole number, got \(describeNode)") }
        return value
    }

    public func bool() throws(InvalidInput) -> Bool {
        guard case .scalar(let scalar) = node, ["true", "false"].contains(scalar.string), let value = node.bool else {
            throw error("expected true or false, got \(describeNode)")
        }
        return value
    }

    /// A duration such as `30s`, `15m`, `2h`, in seconds.
    public func seconds() throws(InvalidInput) -> Int64 {
        let text = try string()
        do { return try DurationText.parseSeconds(text) } catch { throw self.error(error.message) }
    }

    public func array() throws(InvalidInput) -> [YAMLValue] {
        guard case .sequence(let sequence) = node else { throw error("expected a list") }
        return sequence.enumerated().map { YAMLValue(node: $1, file: file, path: "\(path)[\($0)]") }
    }

    /// A list of plain strings, such as globs or label names.
    public func stringList() throws(InvalidInput) -> [String] {
        var out: [String] = []
        for item in try array() { out.append(try item.string()) }
        return out
    }

    /// A mapping's entries in document order, for mappings whose keys are data (role names,
    /// label keys) rather than a fixed schema. Keys must be plain strings, each once.
    public func entries() throws(InvalidInput) -> [(key: String, keyValue: YAMLValue, value: YAMLValue)] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping of keys to values") }
        var out: [(key: String, keyValue: YAMLValue, value: YAMLValue)] = []
        var seen = Set<String>()
        for (keyNode, valueNode) in mapping {
            let keyValue = YAMLValue(node: keyNode, file: file, path: path)
            guard case .scalar(let scalar) = keyNode else { throw keyValue.error("keys must be plain strings") }
            let key = scalar.string
            guard seen.insert(key).inserted else { throw keyValue.error("key \(quoted(key)) appears twice") }
            out.append((key, keyValue, YAMLValue(node: valueNode, file: file, path: path.isEmpty ? key : "\(path).\(key)")))
        }
        return out
    }

    /// The text of a scalar, or `nil` for a mapping or a list: for values that may be
    /// written either as a word or as a mapping (`strategy: all` or `strategy: {batches: 5}`).
    public var scalarText: String? {
        guard case .scalar(let scalar) = node else { return nil }
        return scalar.string
    }

    /// Whether this value came from the text: an empty document has no place.
    public var hasPlace: Bool { node.mark != nil }

    /// Whether this value is a mapping.
    public var isMapping: Bool {
        guard case .mapping = node else { return false }
        return true
    }

    /// A mapping of plain strings to plain strings, such as labels.
    public func stringMap() throws(InvalidInput) -> [String: String] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping of strings") }
        var out: [String: String] = [:]
        for (keyNode, valueNode) in mapping {
            let key = try YAMLValue(node: keyNode, file: file, path: path).string()
            let value = try YAMLValue(node: valueNode, file: file, path: "\(path).\(key)").string()
            guard out[key] == nil else { throw YAMLValue(node: keyNode, file: file, path: path).error("key \(quoted(key)) appears twice") }
            out[key] = value
        }
        return out
    }

    private var describeNode: String {
        switch node {
        case .scalar(let scalar): quoted(scalar.string)
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}

/// Yams' errors span several lines with a snippet; keep the location and the problem.
private func oneLine(_ error: YamlError) -> String {
    switch error {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
        return "\(mark.line):\(mark.column): \(problem)"
    case .reader(let problem, let offset, _, let yaml):
        guard let offset else { return " \(problem)" }
        let (line, column) = lineAndColumn(ofByte: offset, in: yaml)
        return "\(line):\(column): \(problem)"
    case .duplicatedKeysInMapping(let duplicates, let context):
        let keys = duplicates.map { quoted($0) }.joined(separator: ", ")
        return "\(context.mark.line):\(context.mark.column): duplicate key \(keys) (first given here)"
    default:
        return " \(String(describing: error).split(separator: "\n").first ?? "invalid YAML")"
    }
}

/// 1-based line and column (in Unicode scalars, as libyaml counts) of a byte offset.
private func lineAndColumn(ofByte offset: Int, in text: String) -> (Int, Int) {
    let bytes = text.utf8
    let end = bytes.index(bytes.startIndex, offsetBy: max(0, offset), limitedBy: bytes.endIndex) ?? bytes.endIndex
    var line = 1
    var lineStart = bytes.startIndex
    var i = bytes.startIndex
    while i < end {
        if bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = bytes.index(after: i)
        }
        i = bytes.index(after: i)
    }
    let column = String(decoding: bytes[lineStart..<end], as: UTF8.self).unicodeScalars.count + 1
    return (line, column)
}
