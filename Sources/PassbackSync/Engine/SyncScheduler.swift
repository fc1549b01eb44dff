import Foundation
import Logging
import OneRoster
import PassbackCore
import PassbackStore
import ServiceLifecycle
import Synchronization

/// Starts scheduled runs: each section with a schedule (its own, or its org's default) gets
/// one "sync changes" run per weekly window, at its planned time inside the three-hour window.
/// A window is claimed in the store before the run starts, so a restart never runs it twice.
/// Time comes from the injected clock, so tests drive a simulated week by moving it.
public final class SyncScheduler: Service, Sendable {
    let schedules: ScheduleStore
    let planner: SyncPlanner
    let clock: any WallClock
    let interval: Duration
    let logger: Logger

    public init(
        database: PassbackDatabase, planner: SyncPlanner, clock: any WallClock = SystemWallClock(), interval: Duration = .seconds(60),
        logger: Logger = Logger(label: "passback.scheduler")
    ) {
        schedules = ScheduleStore(database)
        self.planner = planner
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    /// Starts the runs that are due now; returns their ids.
    @discardableResult
    public func tick() throws -> [Int64] {
        let now = clock.now
        var started: [Int64] = []
        for section in try schedules.scheduledSections() {
            guard let window = ScheduleRules.window(section.versions, containing: now),
                now >= ScheduleRules.plannedStart(in: window, key: section.sectionSourcedId),
                try schedules.claimWindow(classID: section.classID, windowStart: window.start, at: now)
            else { continue }
            do {
                let (runID, _) = try planner.start(classID: section.classID, trigger: .scheduled, startedBy: "scheduler")
                try schedules.recordRun(classID: section.classID, windowStart: window.start, runID: runID)
                started.append(runID)
            } catch {
                // Give the window back so the next tick (still inside it) tries again.
                try? schedules.releaseWindow(classID: section.classID, windowStart: window.start)
                logger.error("scheduled run of section \(section.sectionSourcedId) could not start: \(error)")
            }
        }
        return started
    }

    public func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            do { try tick() } catch { logger.error("scheduler tick failed: \(error)") }
            // A shutdown must not wait out the interval: the worker stops only after the scheduler has.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }
}

extension Task where Success == Never, Failure == Never {
    /// True once the task is cancelled or its service group is shutting down.
    static var isCancelledOrShuttingDown: Bool { isCancelled || isShuttingDownGracefully }
}
