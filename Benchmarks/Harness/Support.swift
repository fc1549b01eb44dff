import Foundation
import PassbackTesting

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Seconds since an instant, from the monotonic clock.
struct Stopwatch {
    let start = ContinuousClock.now
    var seconds: Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// Latencies of one measured operation.
struct Sample {
    var seconds: [Double] = []
    mutating func add(_ s: Double) { seconds.append(s) }
    func percentile(_ p: Double) -> Double {
        guard !seconds.isEmpty else { return .nan }
        let sorted = seconds.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }
    var p50: Double { percentile(0.5) }
    var p99: Double { percentile(0.99) }
    var ms: String { String(format: "%.2f / %.2f", p50 * 1000, p99 * 1000) }
    var count: Int { seconds.count }
}

/// Runs a command to its end; returns its output, or throws with it.
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> String {
    let log = FileManager.default.temporaryDirectory.appending(path: "bench-\(UUID().uuidString).log")
    defer { try? FileManager.default.removeItem(at: log) }
    let child = try Child(executable, arguments, environment: environment, log: log)
    while child.process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
    guard child.process.terminationStatus == 0 else {
        throw BenchFailure("\(executable) \(arguments.joined(separator: " ")) exited \(child.process.terminationStatus): \(child.output.suffix(800))")
    }
    return child.output
}

/// GraphQL over HTTP, as any client does it.
struct Client {
    var base: String
    var token: String
    /// The session it sends through: by default one for every client of the run (a district's
    /// 1,600 teachers need not open 1,600).
    var session: URLSession = Client.session

    static let session = makeSession()

    /// A session of its own (FoundationNetworking drives each session's transfers on one thread:
    /// a client measured beside others that download large answers gets its own).
    static func makeSession() -> URLSession {
        let c = URLSessionConfiguration.ephemeral
        c.httpMaximumConnectionsPerHost = 16
        c.timeoutIntervalForRequest = 300
        return URLSession(configuration: c)
    }

    /// Sends a query and checks only the HTTP status: for load generators, whose answers are
    /// not read (decoding them would take the harness's CPU from the client it measures).
    func send(_ query: String) async throws {
        var request = URLRequest(url: URL(string: base + "/graphql")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["query": query])
        let (_, response) = try await session.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw BenchFailure("HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0) for a load request")
        }
    }

    func post(_ query: String, _ variables: [String: Any] = [:]) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: base + "/graphql")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["query": query, "variables": variables])
        let (body, response) = try await session.data(for: request)
        let json = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        if let errors = json["errors"] as? [[String: Any]], !errors.isEmpty {
            throw BenchFailure("GraphQL error (HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)): \(errors[0]["message"] ?? "")")
        }
        return json["data"] as? [String: Any] ?? [:]
    }

    /// POSTs `body` to `path` with the token; the HTTP status.
    func postStatus(_ path: String, body: Data) async throws -> Int { try await postRaw(path, body: body).status }

    /// POSTs `body` to `path` with the token; the answer's body.
    func postData(_ path: String, body: Data) async throws -> Data { try await postRaw(path, body: body).body }

    private func postRaw(_ path: String, body: Data) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = body
        let (data, response) = try await session.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    func get(_ path: String) async throws -> (Int, String) {
        let (body, response) = try await session.data(from: URL(string: base + path)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: body, as: UTF8.self))
    }
}

/// Checks a mutation payload's user errors.
func payload(_ data: [String: Any], _ name: String) throws -> [String: Any] {
    let p = data[name] as? [String: Any] ?? [:]
    if let errors = p["userErrors"] as? [[String: Any]], !errors.isEmpty { throw BenchFailure("\(name): \(errors)") }
    return p
}

extension Double {
    var f1: String { String(format: "%.1f", self) }
    var f2: String { String(format: "%.2f", self) }
    var f0: String { String(format: "%.0f", self) }
}

/// A progress line, written at once (`print` holds its output back when stdout is a file).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// A simple query's latency alone and under load, and the load's own requests.
struct LoadResult {
    var alone = Sample()
    var loaded = Sample()
    var heavy = Sample()
    /// Each round's p99, alone and beside the heavy clients (rounds alternate the two).
    var rounds: [(alone: Double, loaded: Double)] = []

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
    /// The median of the rounds' p99s beside the heavy clients over the median of those alone: a
    /// p99 of a few hundred requests moves with the machine's other work, and rounds taken in turn
    /// see the same machine.
    var ratio: Double { Self.median(rounds.map(\.loaded)) / max(Self.median(rounds.map(\.alone)), 1e-9) }
}

/// A flag one task sets and others read.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

extension Range where Bound == Int {
    func asyncMap<T>(_ transform: (Int) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for i in self { out.append(try await transform(i)) }
        return out
    }
}

extension Double {
    /// Seconds as milliseconds, one decimal.
    var ms1: String { String(format: "%.1f", self * 1000) }
}

/// One command run to its end with its own resource use: wall-clock seconds and peak resident
/// memory (`ru_maxrss` from `wait4`, this child's alone).
struct Measured {
    var status: Int32
    var seconds: Double
    var peakMiB: Double
    var output: String
}

/// Runs a command as `Measured` does; blocks the calling thread until it ends.
func measure(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Measured {
    let log = FileManager.default.temporaryDirectory.appending(path: "bench-\(UUID().uuidString).log")
    defer { try? FileManager.default.removeItem(at: log) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] =
        ProcessInfo.processInfo.environment.merging(environment) { _, n in n }
        .map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let watch = Stopwatch()
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard spawned == 0 else { throw BenchFailure("cannot start \(executable): error \(spawned)") }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
        guard errno == EINTR else { throw BenchFailure("wait4 for \(executable) failed: errno \(errno)") }
    }
    let seconds = watch.seconds
    let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return Measured(
        status: exit, seconds: seconds, peakMiB: Double(usage.ru_maxrss) / 1024,
        output: String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self))
}
