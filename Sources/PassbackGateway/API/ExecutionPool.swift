import DequeModule
import Foundation

/// Threads of their own for GraphQL execution. Resolvers read SQLite synchronously (GRDB), so
/// a slow query blocks the thread it runs on; run on these threads, it blocks one of them and
/// never the cooperative pool, which serves HTTP, the outbox worker and the scheduler. With two
/// cores the cooperative pool has two threads: two heavy requests used to stop everything.
///
/// A `TaskExecutor`: `Task(executorPreference:)` runs a request's execution, and the child
/// tasks the library starts for its fields, here.
final class ExecutionPool: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs = Deque<UnownedJob>()
    private var running = true
    let threads: Int

    init(threads: Int, name: String = "passback-graphql") {
        self.threads = threads
        for i in 0..<threads {
            let thread = Thread { [self] in work() }
            thread.name = "\(name)-\(i)"
            // Resolvers and the library recurse per level of the (bounded) document.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the threads end once the jobs queued now have run.
    func shutdown() {
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty, running { condition.wait() }
            guard let job = jobs.popFirst() else {
                condition.unlock()
                return
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
