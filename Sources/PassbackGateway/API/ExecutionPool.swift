import DequeModule
import Foundation

/// Threads of their own for GraphQL execution, shared fairly between requests.
///
/// Resolvers read SQLite synchronously (GRDB), so a slow query blocks the thread it runs on;
/// run here, it blocks one of these and never the cooperative pool, which serves HTTP, the
/// outbox worker and the scheduler (with two cores that pool has two threads: two heavy
/// requests used to stop everything).
///
/// The exception: a query whose plan has been running short (`PlanTiming`: 2 ms on average, wall
/// time, the newest under 8 ms) runs on the thread that received it, where its work costs less
/// than the hop here and back, one at a time per two cores (`InlineSlots`), so at most one
/// cooperative thread of two is ever held by a query. Everything else, and every plan until it
/// has been measured, runs here.
///
/// Each request runs in a `Lane`, a `TaskExecutor` of its own: `Task(executorPreference:)`
/// puts the execution there, and the child tasks the library starts per field inherit it. A
/// free thread takes the next job of the lane that has run the fewest jobs so far (least
/// attained service), so a small query runs ahead of the thousands of field tasks of a large
/// one instead of queueing behind them, and large ones share what is left.
///
/// A request runs one job at a time, so it holds one thread and one SQLite reader, never all
/// of them (its resolvers read synchronously; running its fields in parallel on two cores would
/// gain little and let one request take every thread). Threads have roles: half run at a lower
/// CPU priority (nice 10) and take only large lanes (that have run many jobs already); the
/// others take only small lanes. A lane is large once it has run many jobs, or from its start
/// when its static cost is half the limit or more. So large requests run at the lower priority
/// whatever their number (on two cores, three of them at normal priority took the CPU from
/// everything else: a simple query's p99 grew eightfold), and a small query never waits for a
/// large request's slow SQL statement. A small query waits for a small lane's thread rather than
/// run on an idle lower-priority one: there, while the small threads kept both cores busy, it got
/// a tenth of a core (the admin's errors page at full scale, four connections, had a p99 of
/// 540 ms; 124 ms once small queries stayed off those threads, `ab-serve.sh`).
final class ExecutionPool: @unchecked Sendable {
    /// One request's queue of jobs.
    final class Lane: TaskExecutor, @unchecked Sendable {
        let pool: ExecutionPool
        /// Guarded by the pool's lock.
        fileprivate var jobs = Deque<UnownedJob>()
        fileprivate var waiting = false
        /// Jobs run so far.
        fileprivate var served = 0
        /// Jobs running now (0 or 1).
        fileprivate var active = 0
        /// Large from the start of its execution: its price says so (``promote()``).
        fileprivate var largeFromStart = false
        var large: Bool { largeFromStart || served >= ExecutionPool.largeAfter }

        /// Makes the lane large before the request executes: a request priced near the limit runs its first
        /// jobs, which for an org-wide page are its slowest SQL statements, on the lower-priority
        /// threads too, not on those a small query is waiting for.
        func promote() {
            pool.condition.lock()
            largeFromStart = true
            // A thread woken for it as a small lane may not take it now.
            let sleeper = waiting && active == 0 ? pool.idleThread(for: self) : nil
            pool.condition.unlock()
            sleeper?.signal()
        }

        fileprivate init(pool: ExecutionPool) { self.pool = pool }

        func enqueue(_ job: consuming ExecutorJob) {
            pool.enqueue(UnownedJob(job), on: self)
        }
    }

    /// Guards the lanes' queues, `ready` and `idle`.
    fileprivate let condition = NSLock()
    /// Lanes with jobs waiting.
    private var ready: [Lane] = []
    /// Threads asleep, each until its own semaphore is signalled: a new job wakes one thread that
    /// may take it, not all of them (with four threads, waking all made three context switches
    /// for nothing per job).
    private var idle: [(role: Role, wake: DispatchSemaphore)] = []
    /// Times a thread woke from sleep (for tests).
    private var woken = 0
    var wakeups: Int { condition.withLock { woken } }
    /// Threads asleep now (for tests).
    var idleThreads: Int { condition.withLock { idle.count } }
    private var running = true
    private var threadRoles: [UInt: Role] = [:]
    let threads: Int

    /// Whether the calling code runs on one of the pool's threads.
    var isCurrentThread: Bool { currentRole != nil }
    /// The role of the calling thread, if it is one of the pool's.
    var currentRole: Role? { condition.withLock { threadRoles[UInt(pthread_self())] } }
    /// A lane that has run this many jobs is a large request. On GraphQLSwift's executor the
    /// widget's page of 50 items runs about 400 (a task per field and list item), and must stay
    /// small: at 32 it ran on the lower-priority threads only, and its p50 went from 8 to 13 ms
    /// and its throughput halved; an org-wide `syncErrors(first: 100)` page with its section,
    /// school and material runs thousands. The planner runs a job per data load that has to
    /// wait (a handful a request), so for what it runs the static price decides (`promote()`).
    static let largeAfter = 1024

    init(threads: Int, name: String = "passback-graphql") {
        self.threads = threads
        for i in 0..<threads {
            let role = Self.role(of: i, among: threads)
            let thread = Thread { [self] in
                condition.withLock { threadRoles[UInt(pthread_self())] = role }
                if role == .large { Self.lowerPriority() }
                work(role)
            }
            thread.name = "\(name)-\(role)-\(i)"
            // Resolvers and the library recurse per level of the (bounded) document.
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// A lane for one request.
    func lane() -> Lane { Lane(pool: self) }

    fileprivate func enqueue(_ job: UnownedJob, on lane: Lane) {
        condition.lock()
        lane.jobs.append(job)
        if !lane.waiting {
            lane.waiting = true
            ready.append(lane)
        }
        // One sleeping thread that may take it, if the lane is not running (its thread takes the
        // next job itself); the rest sleep on.
        let sleeper = lane.active == 0 ? idleThread(for: lane) : nil
        condition.unlock()
        sleeper?.signal()
    }

    /// Takes a sleeping thread whose role may run `lane` off the idle list, to be signalled once
    /// the lock is let go. Called with the lock held.
    fileprivate func idleThread(for lane: Lane) -> DispatchSemaphore? {
        let order: [Role] = lane.large ? [.large, .any] : [.small, .any]
        for role in order {
            if let index = idle.firstIndex(where: { $0.role == role }) {
                return idle.remove(at: index).wake
            }
        }
        return nil
    }

    /// Lets the threads end once the jobs queued now have run.
    func shutdown() {
        condition.lock()
        running = false
        let sleeping = idle
        idle.removeAll()
        condition.unlock()
        for thread in sleeping { thread.wake.signal() }
    }

    enum Role: Sendable, CustomStringConvertible {
        /// Only lanes that are not large.
        case small
        /// Only large lanes, at a lower CPU priority.
        case large
        /// Any lane (a pool of one thread).
        case any

        var description: String {
            switch self {
            case .small: "small"
            case .large: "large"
            case .any: "any"
            }
        }
    }

    /// Half the threads (at least one) take large lanes, the rest only small ones; with one
    /// thread, it takes any lane.
    static func role(of index: Int, among threads: Int) -> Role {
        guard threads > 1 else { return .any }
        return index < max(1, threads / 2) ? .large : .small
    }

    /// Lowers the calling thread's scheduling priority. On Linux the nice value belongs to each
    /// thread, and `setpriority(PRIO_PROCESS, 0, …)` sets the calling thread's (setpriority(2), BUGS).
    static func lowerPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }

    private func work(_ role: Role) {
        let wake = DispatchSemaphore(value: 0)
        condition.lock()
        while true {
            // The lane served least so far, of those this thread's role may take; few lanes are
            // ever ready at once, so a scan (with no allocation: it runs per job) is enough.
            func next() -> Int? {
                var best: Int?
                for index in ready.indices {
                    let lane = ready[index]
                    // A lane runs one job at a time, so one request holds one thread however many
                    // slow jobs it has; the threads' roles decide which lanes each may take.
                    guard lane.active == 0 else { continue }
                    if role == .small, lane.large { continue }
                    if role == .large, !lane.large { continue }
                    guard let b = best else {
                        best = index
                        continue
                    }
                    if lane.served < ready[b].served { best = index }
                }
                return best
            }
            var picked = next()
            while picked == nil, running {
                // A lane this thread may not take may wait for a thread that may: wake one.
                var other: DispatchSemaphore?
                for waiting in ready where waiting.active == 0 {
                    other = idleThread(for: waiting)
                    if other != nil { break }
                }
                idle.append((role, wake))
                condition.unlock()
                other?.signal()
                wake.wait()
                condition.lock()
                woken += 1
                picked = next()
            }
            guard let index = picked else {
                condition.unlock()
                return
            }
            let lane = ready[index]
            let job = lane.jobs.removeFirst()
            lane.served += 1
            lane.active += 1
            if lane.jobs.isEmpty {
                lane.waiting = false
                ready.swapAt(index, ready.count - 1)
                ready.removeLast()
            }
            // Other lanes wait that this thread leaves: wake a thread for one of them (that
            // thread, once it has picked, does the same for the next).
            var other: DispatchSemaphore?
            for waiting in ready where waiting.active == 0 {
                other = idleThread(for: waiting)
                if other != nil { break }
            }
            condition.unlock()
            other?.signal()
            job.runSynchronously(on: lane.asUnownedTaskExecutor())
            condition.lock()
            lane.active -= 1
            // A lane with jobs left is taken again by this thread's next turn of the loop, or
            // by the thread woken for it here if this one takes another lane.
        }
    }
}
