import Foundation
import Synchronization

/// How long a plan's recent executions took, which decides where its next one runs
/// (`GraphQLAPI.execute`): a query whose plan has been running short is run on the thread that
/// received its request, with no hop to an `ExecutionPool` lane and back; any other on a lane.
///
/// Wall time, not CPU time: what matters is how long the thread is held, and a read waiting
/// for a lock, a reader or the disk holds it without using the CPU. The mean weighs the newest
/// execution a quarter, and the newest must itself have been short: one long execution (other
/// variables, another principal's larger scope, a lock) sends the plan back to the pool at once,
/// and a run of short ones on the pool brings it back. An execution stopped early (its client
/// left, its deadline passed) only counts when it makes the mean longer.
final class PlanTiming: Sendable {
    /// Executions measured before a plan may run where its request arrives.
    static let measuredFirst = 2
    /// How much longer than the budget the newest execution may have been.
    static let newestFactor: Int64 = 4

    private struct State {
        var runs = 0
        /// The weighted mean and the newest, in nanoseconds.
        var mean: Int64 = 0
        var newest: Int64 = 0
    }

    private let state = Mutex(State())

    /// Whether the plan's recent executions took about `budget` or less.
    func isShort(within budget: Duration) -> Bool {
        guard budget > .zero else { return false }
        let limit = budget.nanoseconds
        return state.withLock { $0.runs >= Self.measuredFirst && $0.mean <= limit && $0.newest <= limit * Self.newestFactor }
    }

    func record(_ spent: Duration, stoppedEarly: Bool = false) {
        let ns = spent.nanoseconds
        state.withLock { s in
            if stoppedEarly, s.runs > 0, ns <= s.mean { return }
            s.mean = s.runs == 0 ? ns : s.mean + (ns - s.mean) / 4
            s.newest = ns
            s.runs += 1
        }
    }
}

/// How many queries may run where they arrive at once: the threads that receive requests also
/// serve HTTP, the outbox worker and the scheduler, so at most half of them (one on two cores)
/// runs a query; another short query meanwhile goes to the pool.
final class InlineSlots: Sendable {
    let limit: Int
    private let taken = Atomic<Int>(0)

    init(limit: Int = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)) { self.limit = limit }

    /// Takes a slot, or says there is none free.
    func take() -> Bool {
        var now = taken.load(ordering: .relaxed)
        while now < limit {
            let (exchanged, original) = taken.compareExchange(expected: now, desired: now + 1, ordering: .acquiring)
            if exchanged { return true }
            now = original
        }
        return false
    }

    func give() { taken.subtract(1, ordering: .releasing) }

    var inUse: Int { taken.load(ordering: .relaxed) }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
