import ArgumentParser
import Foundation
import Logging
import OneRoster
import PassbackCore
import PassbackStore
import PassbackSync
import ServiceLifecycle

/// `passback worker`: the outbox worker and the scheduler, for every configured connection.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Send queued writes to each connection's SIS, and start scheduled runs.",
        discussion: "SIGTERM or Ctrl-C stops claiming work, lets writes in flight finish, releases the rest and exits.")

    @OptionGroup var store: StoreOptions
    @Flag(help: "Send everything queued, then exit (no scheduler).")
    var untilIdle = false
    @Option(help: "Writes in flight at once per SIS (default: each connection's `concurrency`, 4 unless set).")
    var concurrency: Int?

    func validate() throws {
        let range = ConnectionSettings.concurrencyRange
        if let concurrency, !range.contains(concurrency) {
            throw ValidationError("--concurrency must be between \(range.lowerBound) and \(range.upperBound)")
        }
    }

    func run() async throws {
        let (config, database) = try await store.load()
        guard !config.connections.isEmpty else { throw CommandFailure("no connection is configured; see README (Connecting an SIS)") }
        let worker = config.outboxWorker(database: database) { $0.concurrencyPerConnection = concurrency }
        if untilIdle {
            try await worker.drain()
            let counts = try EngineStore(database).jobCounts()
            FileHandle.standardOutput.write(
                Data("outbox idle: \(counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))\n".utf8))
            return
        }
        let scheduler = config.syncScheduler(database: database)
        let group = ServiceGroup(
            configuration: .init(
                services: [worker, scheduler], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "passback.worker")))
        try await group.run()
    }
}

/// `passback sync`: plan a section's sync (dry run) or queue it.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync a section's changes (or one material) to the SIS, or show the plan with --dry-run.")

    @OptionGroup var store: StoreOptions
    @Option(help: "The connection id.")
    var connection: String
    @Option(help: "The section's sourcedId.")
    var section: String
    @Option(help: "Only this material (its LMS id); it is sent whatever its state.")
    var material: String?
    @Flag(help: "Show what would be sent and which rules fail; send nothing.")
    var dryRun = false
    @Option(help: "Who started the run, for the log.")
    var startedBy = "operator"

    func run() async throws {
        let (_, database) = try await store.load()
        let lms = LMSStore(database)
        guard let classID = try lms.classID(connection: connection, sourcedId: section) else {
            throw CommandFailure("no section '\(section)' in connection \(connection); roster it first")
        }
        var materials: Set<Int64>?
        if let material {
            guard let course = try lms.courseID(ofSection: classID), let id = try lms.materialID(courseID: course, lmsID: material) else {
                throw CommandFailure("no material '\(material)' in the LMS course of section \(section)")
            }
            materials = [id]
        }
        let planner = SyncPlanner(database: database)
        do {
            if dryRun {
                print(describe(try planner.plan(classID: classID, materialIDs: materials, onlyChanges: material == nil)))
            } else {
                let (runID, plan) = try planner.start(
                    classID: classID, materialIDs: materials, trigger: material == nil ? .syncChanges : .item, startedBy: startedBy)
                print(describe(plan))
                print("queued as run \(runID); `passback worker` sends it")
            }
        } catch let f as SyncPlanner.Failure {
            throw CommandFailure(f.description)
        }
    }

    func describe(_ plan: SyncPlan) -> String {
        var out = ""
        for item in plan.items {
            out += "\(item.decision.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(item.title) (\(item.lmsID)): \(item.writes.count) write(s)\n"
            for p in item.problems { out += "         \(p.severity == .warning ? "warning" : "error") \(p.code.rawValue): \(p.message)\n" }
        }
        out += "\(plan.items.filter { $0.decision == .send }.count) item(s) to send, \(plan.writeCount) write(s)"
        return out
    }
}
