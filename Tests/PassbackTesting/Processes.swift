import Foundation

/// What went wrong running a child process.
public struct ProcessFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The package's root folder (this file is `Tests/PassbackTesting/Processes.swift`).
public func packageRoot() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// An executable of this package, built beside the running tests (or the benchmark harness).
public func builtBinary(_ name: String) throws -> URL {
    let candidates = [
        URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent().appending(path: name),
        packageRoot().appending(path: ".build/debug/\(name)")
    ]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw ProcessFailure("\(name) was not built next to the tests (looked in \(candidates.map(\.path)))")
    }
    return found
}

/// A child process with its output (standard output and error together) in a file, read while it
/// runs. Nothing here blocks a thread: on two cores a blocked cooperative thread starves the
/// server the child talks to.
public final class Child: @unchecked Sendable {
    public let process = Process()
    public let log: URL

    public init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], log: URL) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// The same, by the executable's path.
    public convenience init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], log: URL) throws {
        try self.init(URL(fileURLWithPath: executable), arguments, environment: environment, log: log)
    }

    public var output: String { String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self) }

    /// Waits until the output holds `text`; throws if the child ends first or `timeout` passes.
    public func waitFor(_ text: String, timeout: Double = 120) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !output.contains(text) {
            guard process.isRunning else { throw ProcessFailure("\(process.executableURL!.lastPathComponent) ended: \(output.suffix(800))") }
            guard Date() < deadline else { throw ProcessFailure("timed out waiting for '\(text)': \(output.suffix(800))") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits for the child to end by itself, at most `timeout` seconds (then stops it and throws).
    public func waitForExit(timeout: Double = 120) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > deadline {
                _ = await stop()
                throw ProcessFailure("\(process.executableURL!.lastPathComponent) \(process.arguments?.joined(separator: " ") ?? "") ran over \(timeout) s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Starts the peak over from the current resident size (Linux: `clear_refs` 5 resets VmHWM).
    public func resetPeakRSS() throws {
        try "5".write(toFile: "/proc/\(process.processIdentifier)/clear_refs", atomically: false, encoding: .utf8)
    }

    /// Peak resident memory so far (VmHWM), in MiB.
    public var peakRSS: Double {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }

    /// A child still running when its owner lets go (a test or benchmark that threw before
    /// stopping it) is killed, rather than left running after the process that started it.
    deinit { process.forceStop() }

    /// SIGTERM, then SIGKILL after 30 s; returns the exit status.
    public func stop() async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        process.forceStop()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }
}

/// How a process ended, with what it wrote.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var out: String
    public var err: String
}

/// Runs a process to its end, standard output and error kept apart in files.
public func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 120) async throws -> ProcessResult {
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
            p.forceStop()
            throw ProcessFailure("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) ran over \(timeout) s")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    return ProcessResult(
        status: p.terminationStatus, out: String(decoding: (try? Data(contentsOf: out)) ?? Data(), as: UTF8.self),
        err: String(decoding: (try? Data(contentsOf: err)) ?? Data(), as: UTF8.self))
}

extension Process {
    /// Ends the process with SIGKILL. Not `terminate()` (SIGTERM): a process started from one of
    /// Swift's threads inherits that thread's signal mask, which blocks SIGTERM (`SigBlk` in
    /// `/proc/PID/status`), so a program that does not unblock it, such as `chromedriver` or
    /// `sleep`, never sees `terminate()`. `passback` itself takes SIGTERM through its signal
    /// handling, so `Child.stop` still asks it first.
    public func forceStop() {
        if isRunning { kill(processIdentifier, SIGKILL) }
    }
}
