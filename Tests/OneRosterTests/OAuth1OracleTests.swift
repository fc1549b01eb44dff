import Foundation
import OneRoster
import OneRosterSandbox
import PassbackTesting
import Testing

/// OAuth 1.0a signatures checked by oauthlib (Python, RFC 5849), an implementation Passback did
/// not write: generated requests with the characters that trip signers (`+`, `'`, `=`, `&`, `~`,
/// `*`, spaces, non-ASCII, repeated and empty parameters), both methods, secrets with reserved
/// characters. `Tests/scripts/oauth1_verify.py` answers per request.
@Suite("OAuth 1.0a signatures, as oauthlib checks them")
struct OAuth1OracleTests {
    static let root = packageRoot()

    static let pieces = ["a", "Z", "0", "9", " ", "+", "'", "=", "&", "~", "*", "-", "_", ".", "%", "/", "?", "é", "ß", "名", "😀", "!", "(", ")", ",", ";", ":"]

    static func text(_ g: inout SeededRandom, max: Int) -> String {
        (0..<Int.random(in: 0...max, using: &g)).map { _ in pieces.randomElement(using: &g)! }.joined()
    }

    /// Runs the oracle over `cases`; one answer per case.
    static func oracle(_ cases: [[String: String]]) throws -> [String] {
        let file = FileManager.default.temporaryDirectory.appending(path: "oauth1-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        let lines = try cases.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", root.appending(path: "Tests/scripts/oauth1_verify.py").path, file.path]
        let out = Pipe()
        python.standardOutput = out
        try python.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        python.waitUntilExit()
        try #require(python.terminationStatus == 0, "the oracle failed (is oauthlib installed? `make test` installs it)")
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test("300 generated requests, both methods: oauthlib accepts every signature, and refuses each with another secret")
    func oauthlibAgrees() throws {
        var g = SeededRandom(seed: UInt64(ProcessInfo.processInfo.environment["PASSBACK_FUZZ_SEED"] ?? "") ?? 20261202)
        var cases: [[String: String]] = []
        for i in 0..<300 {
            var components = URLComponents()
            components.scheme = Bool.random(using: &g) ? "https" : "http"
            components.host = "sis.example.org"
            components.port = [nil, 8443, 80].randomElement(using: &g)!
            components.path = "/ims/oneroster/v1p1/" + ["users", "classes/c 1/lineItems", "results/r+1", "académic"].randomElement(using: &g)!
            let items = (0..<Int.random(in: 0...4, using: &g)).map { _ in
                URLQueryItem(name: Self.text(&g, max: 6).isEmpty ? "limit" : Self.text(&g, max: 6), value: Self.text(&g, max: 12))
            }
            if !items.isEmpty {
                // Every reserved character escaped, as the client sends its queries.
                components.percentEncodedQuery = items.map { PercentEncoding.encode($0.name) + "=" + PercentEncoding.encode($0.value ?? "") }.joined(
                    separator: "&")
            }
            let url = try #require(components.url)
            let secret = Self.text(&g, max: 20)
            let method: OAuth1Signer.Method = i % 2 == 0 ? .hmacSHA256 : .hmacSHA1
            let httpMethod = ["GET", "PUT", "POST", "DELETE"].randomElement(using: &g)!
            let signer = OAuth1Signer(consumerKey: "key-" + Self.text(&g, max: 8), consumerSecret: secret, method: method)
            let header = signer.authorizationHeader(method: httpMethod, url: url)
            cases.append(["method": httpMethod, "url": url.absoluteString, "authorization": header, "secret": secret])
            cases.append(["method": httpMethod, "url": url.absoluteString, "authorization": header, "secret": secret + "x"])
        }
        let answers = try Self.oracle(cases)
        try #require(answers.count == cases.count, "\(answers.prefix(3))")
        var refusedGood: [String] = [], acceptedBad: [String] = []
        for (i, answer) in answers.enumerated() {
            if i % 2 == 0, answer != "ok" { refusedGood.append("\(cases[i]["method"]!) \(cases[i]["url"]!): \(answer)") }
            if i % 2 == 1, answer == "ok" { acceptedBad.append(cases[i]["url"]!) }
        }
        #expect(refusedGood.isEmpty, "oauthlib refused \(refusedGood.count) of our signatures, e.g. \(refusedGood.prefix(3))")
        #expect(acceptedBad.isEmpty, "oauthlib accepted a signature made with another secret: \(acceptedBad.prefix(3))")
    }
}
