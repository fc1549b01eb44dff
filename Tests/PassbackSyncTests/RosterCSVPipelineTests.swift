import Foundation
import OneRoster
import OneRosterSandbox
import PassbackCore
import PassbackStore
import Testing

@testable import PassbackSync

/// The CSV import reads and maps on a thread of its own, ahead of the transaction. When the
/// transaction stops, the reader must stop too (not read the rest of the zip, not be left
/// running), and the transaction's error is the one thrown; the reader's own error comes
/// through as it was.
@Suite("CSV import: reading ahead of the transaction")
struct RosterCSVPipelineTests {
    @Test("an error of the transaction stops the reader at once and is thrown as it was", .timeLimit(.minutes(1)))
    func transactionErrorStopsReader() throws {
        let sandbox = Sandbox(configuration: SandboxConfiguration(plan: DistrictPlan(schools: 2, students: 300, classes: 20)), clock: ManualWallClock(start))
        let zip = try RosterCSVTests.export(sandbox.data, mode: .bulk)
        defer { try? FileManager.default.removeItem(at: zip) }
        struct Broken: Error {}
        let producer = RosterCSVImport.Producer(reader: try OneRosterCSVReader(zipAt: zip), batchSize: 5, capacity: 2)
        var taken = 0
        #expect(throws: Broken.self) {
            try producer.consume { _ in
                taken += 1
                if taken == 3 { throw Broken() }
            }
        }
        #expect(taken == 3)
        #expect(producer.readerEnded, "the reader is not left waiting or running")
        // The reader stopped where the queue was full: three batches taken, two waiting, one
        // being handed over; the zip holds hundreds.
        #expect(producer.batchesRead <= 3 + 2 + 1, "\(producer.batchesRead) batches read")
    }

    @Test("a broken file is the error thrown, after the batches read before it")
    func readerErrorComesThrough() throws {
        let scratch = FileManager.default.temporaryDirectory.appending(path: "pipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,bulk\nfile.categories,bulk\n"
            .write(to: scratch.appending(path: "manifest.csv"), atomically: true, encoding: .utf8)
        try "sourcedId,status,dateLastModified,title\nc1,,,Homework\nc2,,,Tests\n".write(
            to: scratch.appending(path: "categories.csv"), atomically: true, encoding: .utf8)
        // Users come first and are fine; categories.csv breaks on its third line.
        try
            "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\nu1,,,true,o1,student,u1,,Ann,Lee,,,,,,,,\n"
            .write(to: scratch.appending(path: "users.csv"), atomically: true, encoding: .utf8)
        try "sourcedId,status,dateLastModified,title\nc1,,,Homework\nc2,,,\"Tests\n".write(
            to: scratch.appending(path: "categories.csv"), atomically: true, encoding: .utf8)
        let producer = RosterCSVImport.Producer(reader: try OneRosterCSVReader(directory: scratch), batchSize: 1, capacity: 1)
        var collections: [RosterCollection] = []
        do {
            try producer.consume { collections.append($0.collection) }
            Issue.record("the broken users.csv was read")
        } catch let error as OneRosterCSVError {
            #expect(error.file == "categories.csv", "\(error)")
        }
        #expect(collections == [.users, .users, .categories], "the user, users.csv's last (empty) batch, the first category")
    }
}
