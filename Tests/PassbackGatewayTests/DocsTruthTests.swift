import Foundation
import PassbackTesting
import Testing

/// Keeps the words a newcomer reads first true: every command a document names exists, every
/// path it names is in the tree, and none speaks of issue numbers (the tree outlives the tracker).
@Suite("The README and the docs say what is")
struct DocsTruthTests {
    static let root = packageRoot()

    /// The documents a newcomer reads: the README, docs/, each target's README, the schema's and the benchmarks'.
    static func documents() throws -> [URL] {
        var found = [root.appending(path: "README.md"), root.appending(path: "Schema/README.md"), root.appending(path: "Benchmarks/README.md")]
        let fm = FileManager.default
        for folder in ["docs", "Sources", "Clients"] {
            guard let walk = fm.enumerator(at: root.appending(path: folder), includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walk where url.pathExtension == "md" { found.append(url) }
        }
        return found.filter { fm.fileExists(atPath: $0.path) }
    }

    /// `SUBCOMMANDS` of a command's `--help`.
    static func subcommands(_ binary: String, _ path: [String] = []) async throws -> Set<String> {
        let help = try await runProcess(try builtBinary(binary), path + ["--help"], timeout: 60)
        guard let start = help.out.range(of: "SUBCOMMANDS:") else { return [] }
        var names = Set<String>()
        for line in help.out[start.upperBound...].split(separator: "\n") {
            // A subcommand's line starts two spaces in; its wrapped help is indented further.
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first else { continue }
            names.insert(String(name))
        }
        names.remove("help")
        return names
    }

    @Test("every `passback X` and `passbackctl X` the documents name is a command of the built binaries")
    func commandsExist() async throws {
        let known = ["passback": try await Self.subcommands("passback"), "passbackctl": try await Self.subcommands("passbackctl")]
        #expect(known["passback"]?.contains("serve") == true && known["passbackctl"]?.isEmpty == false, "\(known)")
        let pattern = try Regex("`(passback|passbackctl) ([a-z][a-z-]*)")
        var unknown: [String] = []
        for doc in try Self.documents() {
            let text = try String(contentsOf: doc, encoding: .utf8)
            for match in text.matches(of: pattern) {
                let binary = String(text[match.output[1].range!]), command = String(text[match.output[2].range!])
                if known[binary]?.contains(command) != true { unknown.append("\(doc.lastPathComponent): \(binary) \(command)") }
            }
        }
        #expect(unknown.isEmpty, "commands named but not built: \(unknown)")
    }

    @Test("every repository path the documents name in backticks exists")
    func pathsExist() throws {
        let pattern = try Regex("`((?:Sources|Tests|Clients|Benchmarks|Schema|scripts|docs|Plugins)/[A-Za-z0-9_./+-]+)`")
        var missing: [String] = []
        for doc in try Self.documents() {
            let text = try String(contentsOf: doc, encoding: .utf8)
            for match in text.matches(of: pattern) {
                let path = String(text[match.output[1].range!])
                if path.contains("*") { continue }
                if !FileManager.default.fileExists(atPath: Self.root.appending(path: path).path) {
                    missing.append("\(doc.path.replacingOccurrences(of: Self.root.path + "/", with: "")): \(path)")
                }
            }
        }
        #expect(missing.isEmpty, "paths named but not in the tree: \(missing)")
    }

    @Test("no document speaks of issue numbers or of something 'not created yet'")
    func noTrackerWords() throws {
        let pattern = try Regex("(?i)\\bissues? #?[0-9]+\\b|not created yet")
        var found: [String] = []
        for doc in try Self.documents() {
            let text = try String(contentsOf: doc, encoding: .utf8)
            for match in text.matches(of: pattern) { found.append("\(doc.lastPathComponent): \(text[match.range])") }
        }
        #expect(found.isEmpty, "\(found)")
    }
}
