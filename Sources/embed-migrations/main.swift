import Foundation

// Usage: embed-migrations OUTPUT.swift FILE.sql...
// Writes `EmbeddedMigrations.all`, one entry per file, in file-name order. File names must
// be NNNN_name.sql; anything else fails the build so a misnamed migration is never skipped.
let arguments = CommandLine.arguments.dropFirst()
guard let outputPath = arguments.first else {
    FileHandle.standardError.write(Data("usage: embed-migrations OUTPUT.swift FILE.sql...\n".utf8))
    exit(2)
}

var entries: [String] = []
for path in arguments.dropFirst().sorted() {
    let url = URL(fileURLWithPath: path)
    let name = url.deletingPathExtension().lastPathComponent
    let parts = name.split(separator: "_", maxSplits: 1)
    guard parts.count == 2, parts[0].count == 4, let number = Int(parts[0]), !parts[1].isEmpty else {
        FileHandle.standardError.write(Data("error: \(path): migration files must be named NNNN_name.sql\n".utf8))
        exit(1)
    }
    let sql = try String(contentsOf: url, encoding: .utf8)
    // A raw string with enough '#' that no content can close it early.
    var hashes = "#"
    while sql.contains("\"" + hashes) { hashes += "#" }
    entries.append(
        "        EmbeddedMigration(number: \(number), name: \"\(parts[1])\", sql: \(hashes)\"\"\"\n\(sql)\n\"\"\"\(hashes)),"
    )
}

let source = """
// Generated at build time by embed-migrations from Migrations/*.sql. Do not edit.
enum EmbeddedMigrations {
    static let all: [EmbeddedMigration] = [
\(entries.joined(separator: "\n"))
    ]
}

"""
try source.write(toFile: outputPath, atomically: true, encoding: .utf8)
