import Foundation

// Writes a Swift file holding each text file given, in order, as `ENUM.all`:
// `passback-embed-sql OUT.swift ENUM A.sql B.sql ...`.
// Used by the EmbedMigrations build plugin (migrations into the store; the GraphQL schema and
// the widget's files into the gateway); not part of the product.
let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: passback-embed-sql OUTPUT.swift ENUM FILE...\n".utf8))
    exit(2)
}
let files = arguments.dropFirst()
guard let name = files.first else {
    FileHandle.standardError.write(Data("usage: passback-embed-sql OUTPUT.swift ENUM FILE...\n".utf8))
    exit(2)
}
var swift = "// Generated from Schema/ by the EmbedMigrations plugin. Do not edit.\n\n"
swift += "enum \(name) {\n    /// Each file's name and text, in order.\n"
swift += "    static let all: [(name: String, text: String)] = [\n"
for path in files.dropFirst() {
    let url = URL(fileURLWithPath: path)
    let sql = try String(contentsOf: url, encoding: .utf8)
    // A raw string with more #s than any run in the SQL can never end early.
    var hashes = "#"
    while sql.contains("\"" + hashes) || sql.contains("\\" + hashes) { hashes += "#" }
    swift += "        (name: \(hashes)\"\(url.lastPathComponent)\"\(hashes), text: \(hashes)\"\"\"\n\(sql)\n\"\"\"\(hashes)),\n"
}
swift += "    ]\n}\n"
try swift.write(to: URL(fileURLWithPath: output), atomically: true, encoding: .utf8)
