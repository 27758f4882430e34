import Foundation

// Usage: embed-migrations --migrations|--policies OUTPUT.swift FILE...
// --migrations writes `EmbeddedMigrations.all`, one entry per NNNN_name.sql in name order;
// a misnamed file fails the build so a migration is never skipped.
// --policies writes `EmbeddedPolicies.files`: (file name, text) pairs in name order.
var arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2, ["--migrations", "--policies"].contains(arguments[0]) else {
    FileHandle.standardError.write(Data("usage: embed-migrations --migrations|--policies OUTPUT.swift FILE...\n".utf8))
    exit(2)
}
let mode = arguments.removeFirst()
let outputPath = arguments.removeFirst()

/// A raw string literal that no content can close early.
func literal(_ text: String) -> String {
    var hashes = "#"
    while text.contains("\"" + hashes) { hashes += "#" }
    return "\(hashes)\"\"\"\n\(text)\n\"\"\"\(hashes)"
}

var entries: [String] = []
for path in arguments.sorted() {
    let url = URL(fileURLWithPath: path)
    let text = try String(contentsOf: url, encoding: .utf8)
    if mode == "--policies" {
        entries.append("        (name: \"\(url.lastPathComponent)\", text: \(literal(text))),")
        continue
    }
    let name = url.deletingPathExtension().lastPathComponent
    let parts = name.split(separator: "_", maxSplits: 1)
    guard parts.count == 2, parts[0].count == 4, let number = Int(parts[0]), !parts[1].isEmpty else {
        FileHandle.standardError.write(Data("error: \(path): migration files must be named NNNN_name.sql\n".utf8))
        exit(1)
    }
    entries.append("        EmbeddedMigration(number: \(number), name: \"\(parts[1])\", sql: \(literal(text))),")
}

let source =
    mode == "--policies"
    ? """
    // Generated at build time by embed-migrations from policies/*.yaml. Do not edit.
    enum EmbeddedPolicies {
        static let files: [(name: String, text: String)] = [
    \(entries.joined(separator: "\n"))
        ]
    }

    """
    : """
    // Generated at build time by embed-migrations from Migrations/*.sql. Do not edit.
    enum EmbeddedMigrations {
        static let all: [EmbeddedMigration] = [
    \(entries.joined(separator: "\n"))
        ]
    }

    """
try source.write(toFile: outputPath, atomically: true, encoding: .utf8)
