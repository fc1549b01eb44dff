import Foundation
import Testing

@testable import PassbackGateway

/// GraphQL execution runs on threads of its own, fairly between requests (issue 13, finding 5).
@Suite("execution pool")
struct ExecutionPoolTests {

    /// Busy for a moment, as a resolver's synchronous SQLite read would be.
    static func work() { usleep(1_000) }

    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [String] = []
        func add(_ s: String) { lock.withLock { entries.append(s) } }
        var all: [String] { lock.withLock { entries } }
    }

    @Test("a request's tasks, its child tasks and its batch loaders' fetches run on the pool's threads, not the cooperative pool")
    func offTheCooperativePool() async throws {
        let pool = ExecutionPool(threads: 2)
        defer { pool.shutdown() }
        let lane = pool.lane()
        let onPool = try await Task(executorPreference: lane) { () async throws -> [Bool] in
            var onPool = [pool.isCurrentThread]
            onPool += await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 { group.addTask { pool.isCurrentThread } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            // A loader fetches on the lane it is given, whoever calls it.
            let loader = BatchLoader<Int, Bool>(executor: lane) { keys in Dictionary(uniqueKeysWithValues: keys.map { ($0, pool.isCurrentThread) }) }
            onPool.append(try await loader.load(1) ?? false)
            return onPool
        }.value
        #expect(onPool == Array(repeating: true, count: 6), "\(onPool)")
        #expect(!pool.isCurrentThread)
    }

    @Test("a small request's job runs before the rest of a large request's jobs")
    func leastServedFirst() async throws {
        let pool = ExecutionPool(threads: 1)
        defer { pool.shutdown() }
        let log = Log()
        let smallQueued = Log()
        // On the pool's one thread the large request queues 200 jobs; its first holds the thread
        // until the small request's job is queued too, whatever the machine's load.
        let large = Task(executorPreference: pool.lane()) {
            await withTaskGroup(of: Void.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        log.add("large")
                        if i == 0 { while smallQueued.all.isEmpty { Self.work() } }
                        Self.work()
                    }
                }
            }
        }
        while log.all.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
        let small = Task(executorPreference: pool.lane()) { log.add("small") }
        smallQueued.add("queued")
        await small.value
        await large.value
        // First come, first served would run it after all 200.
        #expect(log.all.firstIndex(of: "small") == 1, "the small request ran after \(log.all.firstIndex(of: "small") ?? -1) of the large one's jobs")
    }

    @Test("a small request with many slow jobs of its own cannot fill the small requests' thread as well")
    func smallThreadOneJobPerLane() async throws {
        let pool = ExecutionPool(threads: 4)
        let release = Log(), holding = Log(), ran = Log()
        defer {
            release.add("go")
            pool.shutdown()
        }
        // Ten jobs, each holding its thread (fewer than make a request large).
        Task(executorPreference: pool.lane()) {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        holding.add("hold")
                        while release.all.isEmpty { Self.work() }
                    }
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while holding.all.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        try await Task.sleep(for: .milliseconds(50))
        Task(executorPreference: pool.lane()) { ran.add("small") }
        let waitUntil = ContinuousClock.now + .seconds(10)
        while ran.all.isEmpty, ContinuousClock.now < waitUntil { try await Task.sleep(for: .milliseconds(2)) }
        #expect(ran.all == ["small"], "another small request ran while the first held \(holding.all.count) threads")
    }

    @Test("a request promoted as large (priced at half the limit or more) runs even its first job on the lower-priority threads only")
    func promotedFromStart() async throws {
        let pool = ExecutionPool(threads: 4)
        let release = Log(), holding = Log(), ran = Log()
        defer {
            release.add("go")
            pool.shutdown()
        }
        // Four promoted requests whose very first job holds its thread (as an org-wide page's root SQL would).
        for _ in 0..<4 {
            let lane = pool.lane()
            lane.promote()
            Task(executorPreference: lane) {
                holding.add(pool.currentRole.map { "\($0)" } ?? "not the pool's")
                while release.all.isEmpty { Self.work() }
            }
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while holding.all.count < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(
            holding.all.count == 2 && holding.all.allSatisfy { $0 == "large" },
            "promoted requests ran on \(holding.all); only the two lower-priority threads may run them")
        // A small query still runs at once.
        Task(executorPreference: pool.lane()) { ran.add("small") }
        let waitUntil = ContinuousClock.now + .seconds(10)
        while ran.all.isEmpty, ContinuousClock.now < waitUntil { try await Task.sleep(for: .milliseconds(2)) }
        #expect(ran.all == ["small"])
    }

    @Test("a thread is kept for small requests: a small query runs while four large ones each hold a thread")
    func smallThreadKept() async throws {
        let pool = ExecutionPool(threads: 4)
        let release = Log(), holding = Log(), ran = Log()
        defer {
            release.add("go")
            pool.shutdown()
        }
        // Four large requests, each of whose jobs past the large mark holds its thread (as a slow SQL statement would).
        for _ in 0..<4 {
            Task(executorPreference: pool.lane()) {
                await withTaskGroup(of: Void.self) { group in
                    for i in 0..<(ExecutionPool.largeAfter + 8) {
                        group.addTask {
                            guard i >= ExecutionPool.largeAfter else { return }
                            holding.add("hold")
                            while release.all.isEmpty { Self.work() }
                        }
                    }
                }
            }
        }
        // Only the two lower-priority threads end up held by large requests, however many wait.
        let deadline = ContinuousClock.now + .seconds(20)
        while holding.all.count < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(holding.all.count == 2, "large requests held \(holding.all.count) threads; only the two lower-priority ones may run them")
        // Both normal-priority threads are left to small requests: two run at once.
        let both = Log()
        for name in ["a", "b"] {
            Task(executorPreference: pool.lane()) {
                both.add(name)
                let until = ContinuousClock.now + .seconds(10)
                while both.all.count < 2, ContinuousClock.now < until { Self.work() }
                ran.add(name)
            }
        }
        let waitUntil = ContinuousClock.now + .seconds(15)
        while ran.all.count < 2, ContinuousClock.now < waitUntil { try await Task.sleep(for: .milliseconds(2)) }
        #expect(Set(ran.all) == ["a", "b"] && both.all.count == 2, "small requests ran \(ran.all) while the large ones held \(holding.all.count) threads")
    }

    @Test("a small request waits for a normal-priority thread rather than run on a lower-priority one")
    func smallNeverLowPriority() async throws {
        let pool = ExecutionPool(threads: 4)
        let release = Log(), holding = Log(), ran = Log()
        defer {
            release.add("go")
            pool.shutdown()
        }
        // Two small requests hold the two normal-priority threads.
        for _ in 0..<2 {
            Task(executorPreference: pool.lane()) {
                holding.add("hold")
                while release.all.isEmpty { Self.work() }
            }
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while holding.all.count < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        // A third waits, though the two lower-priority threads are idle: there, while the others
        // kept both cores busy, it would get a tenth of a core (nice 10).
        Task(executorPreference: pool.lane()) { ran.add(pool.currentRole.map { "\($0)" } ?? "not the pool's") }
        try await Task.sleep(for: .milliseconds(200))
        #expect(ran.all.isEmpty, "a third small request ran (on a \(ran.all) thread) while two held theirs")
        release.add("go")
        let waitUntil = ContinuousClock.now + .seconds(10)
        while ran.all.isEmpty, ContinuousClock.now < waitUntil { try await Task.sleep(for: .milliseconds(2)) }
        #expect(ran.all == ["small"])
    }

    @Test("a job wakes one sleeping thread, not every thread of the pool")
    func oneWakeupAJob() async throws {
        let pool = ExecutionPool(threads: 4)
        defer { pool.shutdown() }
        // Let the four threads fall asleep.
        while pool.idleThreads < 4 { try await Task.sleep(for: .milliseconds(1)) }
        let before = pool.wakeups
        // One request after the other, each one job, as a small query is: each wakes a thread.
        for _ in 0..<100 {
            await Task(executorPreference: pool.lane()) { Self.work() }.value
            while pool.idleThreads < 4 { try await Task.sleep(for: .microseconds(100)) }
        }
        let woken = pool.wakeups - before
        // Waking all four threads for every job made 400.
        #expect(woken >= 100 && woken <= 110, "\(woken) wake-ups for 100 jobs")
    }

    @Test("threads that run large requests run at the lower priority and take only those; the others take only small requests")
    func roles() {
        #expect((0..<4).map { ExecutionPool.role(of: $0, among: 4) } == [.large, .large, .small, .small])
        #expect((0..<2).map { ExecutionPool.role(of: $0, among: 2) } == [.large, .small])
        #expect(ExecutionPool.role(of: 0, among: 1) == .any)
    }
}
