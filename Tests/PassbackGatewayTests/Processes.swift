import Foundation
import Testing

/// An executable of this package, built next to the tests.
func builtBinary(_ name: String) throws -> URL {
    let candidates = [
        URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent().appending(path: name),
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appending(path: ".build/debug/\(name)"),
    ]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw HarnessFailure("\(name) was not built next to the tests (looked in \(candidates.map(\.path)))")
    }
    return found
}

struct ProcessResult {
    var status: Int32
    var out: String
    var err: String
}

/// Runs a process to its end with output in files. It never blocks a cooperative thread
/// (no `waitUntilExit`, no pipe reads): on two cores that would starve the server it talks to.
func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 120) async throws -> ProcessResult {
    let dir = FileManager.default.temporaryDirectory.appending(path: "passback-proc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appending(path: "out"), err = dir.appending(path: "err")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    p.standardOutput = try FileHandle(forWritingTo: out)
    p.standardError = try FileHandle(forWritingTo: err)
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning {
        if Date() > deadline {
            p.terminate()
            throw HarnessFailure("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) ran over \(timeout) s")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    return ProcessResult(status: p.terminationStatus, out: String(decoding: (try? Data(contentsOf: out)) ?? Data(), as: UTF8.self),
                         err: String(decoding: (try? Data(contentsOf: err)) ?? Data(), as: UTF8.self))
}
