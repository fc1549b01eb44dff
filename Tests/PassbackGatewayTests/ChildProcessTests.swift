import Foundation
import PassbackTesting
import Testing

/// The harness's child processes end when the harness is done with them. A process started from
/// one of Swift's threads inherits a signal mask that blocks SIGTERM, so `Process.terminate()`
/// did not end `chromedriver` (about six were left running after every test run) or `sleep`.
@Suite("Child processes the tests and the benchmark start")
struct ChildProcessTests {
    @Test("is stopped when its last reference goes, not left running")
    func stoppedOnRelease() async throws {
        let log = FileManager.default.temporaryDirectory.appending(path: "passback-child-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        weak var released: Child?
        let pid = try Self.start(log) { released = $0 }
        #expect(released == nil, "the Child is still referenced")
        let deadline = Date().addingTimeInterval(10)
        while Self.running(pid), Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!Self.running(pid), "sleep \(pid) still runs after its Child was released")
        if Self.running(pid) { kill(pid, SIGKILL) }
    }

    @Test("a browser session's quit ends its chromedriver")
    func webDriverQuit() async throws {
        let browser = try await WebDriver()
        let pid = browser.driver.processIdentifier
        #expect(Self.running(pid))
        await browser.quit()
        #expect(!Self.running(pid), "chromedriver \(pid) still runs after quit()")
    }

    /// Starts `sleep 300` as a Child that no one keeps; its pid.
    static func start(_ log: URL, _ seen: (Child) -> Void) throws -> Int32 {
        let child = try Child("/bin/sleep", ["300"], log: log)
        seen(child)
        #expect(running(child.process.processIdentifier))
        return child.process.processIdentifier
    }

    /// Alive and not a zombie waiting to be reaped.
    static func running(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        // The state follows the command's closing parenthesis.
        guard let close = stat.lastIndex(of: ")") else { return false }
        return !stat[close...].dropFirst(2).hasPrefix("Z")
    }
}
