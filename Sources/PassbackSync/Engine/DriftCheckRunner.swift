import Foundation
import Logging
import OneRoster
import PassbackConfig
import PassbackCore
import PassbackStore
import Synchronization

/// Runs drift checks (`SectionVerifier`) in the background for the API: a section's check is
/// about 1,240 reads (40 lineItems, 1,200 results), 41 s at 1,800 requests a minute, too long
/// to hold a request open. The mutation starts it and returns at once; what it finds shows on the
/// section's items (`SIS_DIFFERS`, `UPDATES_AVAILABLE`) as it is recorded. One check per section
/// at a time. A check cut short by a stopped process is simply not recorded: it reads and flags,
/// it never writes to the SIS, so running it again is all it takes.
public final class DriftCheckRunner: Sendable {
    let database: PassbackDatabase
    let connections: [String: PassbackConfiguration.Connection]
    let clients: [String: OneRosterClient]
    let transport: any HTTPTransport
    let clock: any WallClock
    let logger = Logger(label: "passback.verify")
    private let running = Mutex<[Int64: Task<SectionVerifier.Report?, Never>]>([:])

    public init(
        database: PassbackDatabase, connections: [String: PassbackConfiguration.Connection], clients: [String: OneRosterClient],
        transport: any HTTPTransport, clock: any WallClock
    ) {
        self.database = database
        self.connections = connections
        self.clients = clients
        self.transport = transport
        self.clock = clock
    }

    /// Why a check cannot start.
    public enum Refusal: Error, Sendable {
        case alreadyRunning
        case notConfigured(String)
        case notLinked(String)
    }

    /// Starts a check of the section; returns how many SIS objects it reads.
    public func start(classID: Int64, connection: String) throws(Refusal) -> Int {
        guard let conn = connections[connection] else { throw .notConfigured(connection) }
        let verifier = SectionVerifier(database: database, clock: clock, logger: logger)
        let count: Int
        do { count = try verifier.objects(classID: classID).objects.count } catch { throw .notLinked("\(error)") }
        let client = clients[connection] ?? ClientFactory.client(for: conn, transport: transport, clock: clock)
        return try running.withLock { (tasks) throws(Refusal) -> Int in
            guard tasks[classID] == nil else { throw .alreadyRunning }
            tasks[classID] = Task {
                defer { _ = self.running.withLock { $0.removeValue(forKey: classID) } }
                do {
                    return try await verifier.verify(
                        classID: classID, client: client, requestsPerMinute: conn.settings.requestsPerMinute,
                        concurrency: conn.settings.concurrency)
                } catch {
                    self.logger.error("drift check of section \(classID) (connection \(connection)) failed: \(error)")
                    return nil
                }
            }
            return count
        }
    }

    /// Waits for the section's check, if one runs (tests, shutdown).
    public func wait(classID: Int64) async -> SectionVerifier.Report? {
        guard let task = running.withLock({ $0[classID] }) else { return nil }
        return await task.value
    }
}
