import Foundation

/// A `sqlite3` shell as another process on a database file: the tests hold the database open,
/// or its write lock, the way an operator's shell or a backup tool would.
public final class SQLiteShell {
    private let process = Process(), input = Pipe(), output = Pipe()

    public init(_ path: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    /// Sends `sql` and returns what the shell printed first (end it with a SELECT to wait for it).
    @discardableResult
    public func run(_ sql: String) -> String {
        input.fileHandleForWriting.write(Data((sql + "\n").utf8))
        return String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
    }

    /// Ends the shell; what it holds is rolled back.
    public func quit() {
        input.fileHandleForWriting.write(Data("ROLLBACK;\n.quit\n".utf8))
        process.waitUntilExit()
    }

    deinit { process.forceStop() }
}
