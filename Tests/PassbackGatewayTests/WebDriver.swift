import Foundation
import PassbackTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small W3C WebDriver client for Debian's `chromedriver` and `chromium`, headless: enough to
/// drive the widget as a user would (navigate, click, type, read, screenshot).
final class WebDriver: @unchecked Sendable {
    private(set) var driver: Process
    private(set) var base: URL
    var session = ""
    static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    struct Element { var id: String }

    /// Starts chromedriver and a headless Chromium session.
    /// `prefs`: Chromium's preferences (e.g. to block third-party cookies).
    init(width: Int = 1280, height: Int = 1000, prefs: [String: Any] = [:]) async throws {
        guard ["/usr/bin/chromedriver", "/usr/bin/chromium", "/usr/bin/curl"].allSatisfy(FileManager.default.isExecutableFile(atPath:)) else {
            throw HarnessFailure(
                "the browser tests need Debian's chromium, chromium-driver and curl: apt-get install chromium chromium-driver curl (.ci/run does)")
        }
        // Below Linux's ephemeral ports (32768 and up), which the tests' servers bound to port 0
        // take: a port taken all the same makes chromedriver exit, and another is tried.
        var attempt = 0
        driver = Process()
        base = URL(string: "http://127.0.0.1")!
        while true {
            attempt += 1
            let port = Int.random(in: 20_000..<32_000)
            driver = Process()
            driver.executableURL = URL(fileURLWithPath: "/usr/bin/chromedriver")
            driver.arguments = ["--port=\(port)"]
            driver.standardOutput = FileHandle.nullDevice
            driver.standardError = FileHandle.nullDevice
            try driver.run()
            base = URL(string: "http://127.0.0.1:\(port)")!
            let deadline = Date().addingTimeInterval(20)
            var last = "no answer"
            var ready = false
            while driver.isRunning {
                do {
                    let status = try await call("GET", "status")
                    if (status["ready"] as? Bool) == true {
                        ready = true
                        break
                    }
                    last = "\(status)"
                } catch {
                    last = "\(error)"
                }
                guard Date() < deadline else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            // Another server answering on a port this driver could not take: it has exited.
            if ready {
                try await Task.sleep(for: .milliseconds(200))
                if driver.isRunning { break }
            }
            driver.forceStop()
            guard attempt < 3 else { throw HarnessFailure("chromedriver did not start (3 ports tried): \(last)") }
        }
        let caps: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": "/usr/bin/chromium",
                        "prefs": prefs,
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=\(width),\(height)", "--lang=en-US"
                        ]
                    ]
                ]
            ]
        ]
        do {
            let created = try await call("POST", "session", caps)
            session = try #require((created["value"] as? [String: Any])?["sessionId"] as? String, "no session: \(created)")
        } catch {
            driver.forceStop()
            throw error
        }
    }

    /// Ends the browser session, then chromedriver, and waits (up to 10 s) for it to be gone.
    func quit() async {
        _ = try? await call("DELETE", "session/\(session)")
        driver.forceStop()
        let deadline = Date().addingTimeInterval(10)
        while driver.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    }

    deinit { driver.forceStop() }

    /// One WebDriver command. chromedriver writes headers with no space after the colon, which
    /// URLSession on Linux refuses ("Failed writing header"), so the command goes through curl.
    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        var arguments = ["-s", "--max-time", "60", "-X", method, base.appending(path: path).absoluteString]
        if let body {
            arguments += [
                "-H", "Content-Type: application/json", "--data-binary", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
            ]
        }
        let result = try await runProcess(URL(fileURLWithPath: "/usr/bin/curl"), arguments, timeout: 90)
        guard result.status == 0 else { throw HarnessFailure("curl \(method) \(path) failed (\(result.status)): \(result.err)") }
        let json = (try? JSONSerialization.jsonObject(with: Data(result.out.utf8))) as? [String: Any] ?? [:]
        if let value = json["value"] as? [String: Any], let error = value["error"] as? String {
            throw HarnessFailure("WebDriver \(path): \(error): \(value["message"] as? String ?? "")")
        }
        if path == "status" { return json["value"] as? [String: Any] ?? [:] }
        return json
    }

    func open(_ url: String) async throws { try await call("POST", "session/\(session)/url", ["url": url]) }

    /// Makes the iframe `css` the context of what follows; nil: the top page again.
    func frame(_ css: String?) async throws {
        if let css {
            let element = try await find(css)
            try await call("POST", "session/\(session)/frame", ["id": [Self.elementKey: element.id]])
        } else {
            try await call("POST", "session/\(session)/frame", ["id": NSNull()])
        }
    }

    func find(_ css: String) async throws -> Element {
        let r = try await call("POST", "session/\(session)/element", ["using": "css selector", "value": css])
        return Element(id: try #require((r["value"] as? [String: Any])?[Self.elementKey] as? String))
    }

    func click(_ css: String) async throws {
        let e = try await find(css)
        try await call("POST", "session/\(session)/element/\(e.id)/click", [:])
    }

    func type(_ css: String, _ text: String) async throws {
        let e = try await find(css)
        try await call("POST", "session/\(session)/element/\(e.id)/value", ["text": text])
    }

    /// Keys sent to whatever has focus (WebDriver's key codes: Tab is \u{E004}).
    func keys(_ text: String) async throws {
        let actions: [[String: Any]] = text.map { ["type": "keyDown", "value": String($0)] } + text.map { ["type": "keyUp", "value": String($0)] }
        try await call("POST", "session/\(session)/actions", ["actions": [["type": "key", "id": "keyboard", "actions": actions]]])
    }

    func script(_ js: String, _ args: [Any] = []) async throws -> Any? {
        let r = try await call("POST", "session/\(session)/execute/sync", ["script": js, "args": args])
        return r["value"] is NSNull ? nil : r["value"]
    }

    func text(_ css: String) async throws -> String {
        (try await script("const e = document.querySelector(arguments[0]); return e ? e.innerText : null;", [css]) as? String) ?? ""
    }

    func texts(_ css: String) async throws -> [String] {
        (try await script("return [...document.querySelectorAll(arguments[0])].map(e => e.innerText.trim());", [css]) as? [String]) ?? []
    }

    func resize(_ width: Int, _ height: Int) async throws {
        try await call("POST", "session/\(session)/window/rect", ["width": width, "height": height])
    }

    func screenshot(to url: URL) async throws {
        let r = try await call("GET", "session/\(session)/screenshot")
        let png = try #require(Data(base64Encoded: r["value"] as? String ?? ""))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try png.write(to: url)
    }

    /// Waits until `condition` holds in the page (JavaScript returning a boolean).
    func wait(_ what: String, timeout: Double = 20, _ js: String, _ args: [Any] = []) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try await script(js, args) as? Bool) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessFailure("timed out waiting for \(what)")
    }
}
