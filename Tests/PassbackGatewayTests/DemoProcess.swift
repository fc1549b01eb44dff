import Foundation
import PassbackTesting
import Testing

/// `passback demo` running as a real process, with what it printed.
final class DemoProcess: @unchecked Sendable {
    let process = Process()
    let output: URL
    let database: String
    var printed = ""

    var base: String { value(after: "GraphQL:").replacingOccurrences(of: "/graphql", with: "") }
    var teacherWidget: String { value(after: "widget (teacher):") }
    var adminWidget: String { value(after: "widget (admin):") }
    var teacherToken: String { value(after: "teacher token:") }
    var adminToken: String { value(after: "admin token:") }
    var integrationToken: String { value(after: "integration token:") }

    func value(after label: String) -> String {
        guard let line = printed.split(separator: "\n").first(where: { $0.contains(label) }) else { return "" }
        return line.components(separatedBy: label)[1].trimmingCharacters(in: .whitespaces).components(separatedBy: " ")[0]
    }

    init(database: String, reset: Bool = true, arguments: [String] = []) async throws {
        self.database = database
        output = FileManager.default.temporaryDirectory.appending(path: "passback-demo-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.executableURL = try builtBinary("passback")
        process.arguments = ["demo", "--port", "0", "--database", database] + (reset ? ["--reset"] : []) + arguments
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while !printed.contains("Press Ctrl-C to stop.") {
            guard process.isRunning, Date() < deadline else { throw HarnessFailure("passback demo did not start: \(printed)") }
            try await Task.sleep(for: .milliseconds(50))
            printed = String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self)
        }
    }

    /// Ctrl-C, then the exit status.
    func stop() async -> Int32 {
        kill(process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        process.forceStop()
        try? FileManager.default.removeItem(at: output)
        return process.isRunning ? -1 : process.terminationStatus
    }

    static func cleanup(_ database: String) {
        for s in ["", "-wal", "-shm", ".tokens.json"] { try? FileManager.default.removeItem(atPath: database + s) }
    }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A GraphQL request to any gateway.
func graphQL(_ base: String, _ query: String, _ variables: [String: Any] = [:], token: String?, headers: [String: String] = [:]) async throws -> Reply {
    var request = URLRequest(url: URL(string: base + "/graphql")!)
    request.httpMethod = "POST"
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
    request.httpBody = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
    return try await send(request)
}

/// Sends a request and reads the answer as the tests do.
func send(_ request: URLRequest) async throws -> Reply {
    let (body, response) = try await URLSession.shared.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
    var headers: [String: String] = [:]
    for (k, v) in http.allHeaderFields { if let k = k as? String, let v = v as? String { headers[k.lowercased()] = v } }
    return Reply(status: http.statusCode, text: String(decoding: body, as: UTF8.self), json: json, headers: headers)
}
