import Foundation

// Writes a Swift file holding each SQL file given, in order: `passback-embed-sql OUT.swift A.sql B.sql ...`.
// Used by the EmbedMigrations build plugin; not part of the product.
let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: passback-embed-sql OUTPUT.swift FILE.sql...\n".utf8))
    exit(2)
}
var swift = "// Generated from Schema/migrations by the EmbedMigrations plugin. Do not edit.\n\n"
swift += "enum EmbeddedMigrations {\n    /// Each migration's file name and SQL, in the order they apply.\n"
swift += "    static let all: [(name: String, sql: String)] = [\n"
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    let sql = try String(contentsOf: url, encoding: .utf8)
    // A raw string with more #s than any run in the SQL can never end early.
    var hashes = "#"
    while sql.contains("\"" + hashes) || sql.contains("\\" + hashes) { hashes += "#" }
    swift += "        (name: \(hashes)\"\(url.lastPathComponent)\"\(hashes), sql: \(hashes)\"\"\"\n\(sql)\n\"\"\"\(hashes)),\n"
}
swift += "    ]\n}\n"
try swift.write(to: URL(fileURLWithPath: output), atomically: true, encoding: .utf8)
