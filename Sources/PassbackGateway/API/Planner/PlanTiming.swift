import Foundation
import Synchronization

/// The CPU time a plan's recent executions took, which decides where its next one runs
/// (`GraphQLAPI.execute`): a query whose plan has been running short is run on the thread that
/// received its request, with no hop to an `ExecutionPool` lane and back; any other on a lane.
///
/// The mean weighs the newest execution a quarter, so one long execution (other variables, a
/// colder cache) sends the plan back to the pool at once, and a run of short ones on the pool
/// brings it back. An execution that moved threads (it waited for a fetch) counts its wall time.
final class PlanTiming: Sendable {
    /// Executions measured before a plan may run where its request arrives.
    static let measuredFirst = 2

    /// The weighted mean, in nanoseconds.
    private let mean = Atomic<Int64>(0)
    private let runs = Atomic<Int>(0)

    /// Whether the plan's recent executions each took about `budget` or less.
    func isShort(within budget: Duration) -> Bool {
        budget > .zero && runs.load(ordering: .relaxed) >= Self.measuredFirst && mean.load(ordering: .relaxed) <= budget.nanoseconds
    }

    func record(_ spent: Duration) {
        let ns = spent.nanoseconds
        var old = mean.load(ordering: .relaxed)
        let first = runs.wrappingAdd(1, ordering: .relaxed).oldValue == 0
        while true {
            let new = first ? ns : old + (ns - old) / 4
            let (exchanged, original) = mean.compareExchange(expected: old, desired: new, ordering: .relaxed)
            if exchanged { return }
            old = original
        }
    }

    /// The calling thread's CPU time, and the thread, so a measure across an `await` that moved
    /// threads can tell.
    struct Clock {
        let thread = pthread_self()
        let cpu = Clock.threadCPU()
        let wall = ContinuousClock.now

        /// The CPU time spent on this thread since `self`, or the wall time when the thread changed.
        func spent() -> Duration {
            guard pthread_equal(thread, pthread_self()) != 0 else { return ContinuousClock.now - wall }
            return Clock.threadCPU() - cpu
        }

        static func threadCPU() -> Duration {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return .seconds(t.tv_sec) + .nanoseconds(t.tv_nsec)
        }
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
