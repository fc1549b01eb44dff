import Testing

@testable import PassbackCore

@Suite("Sync status of a material in a section")
struct StatusRulesTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var syncToSIS: Bool
        var pending: Int
        var last: LastAttempt?
        var accepted: String?
        var current: String
        var expected: SyncStatus
        var why: String
        var testDescription: String { why }
    }

    static let table: [Row] = [
        Row(syncToSIS: true, pending: 0, last: nil, accepted: nil, current: "f1", expected: .notSynced, why: "never sent"),
        Row(syncToSIS: true, pending: 3, last: nil, accepted: nil, current: "f1", expected: .inProgress, why: "first sync queued"),
        Row(syncToSIS: true, pending: 1, last: .failed, accepted: "f0", current: "f1", expected: .inProgress, why: "retry after an error in flight"),
        Row(syncToSIS: true, pending: 0, last: .succeeded, accepted: "f1", current: "f1", expected: .successful, why: "accepted and unchanged"),
        Row(syncToSIS: true, pending: 0, last: .succeeded, accepted: "f1", current: "f2", expected: .updatesAvailable, why: "changed since the last success"),
        Row(syncToSIS: true, pending: 0, last: .failed, accepted: nil, current: "f1", expected: .error, why: "first sync failed"),
        Row(syncToSIS: true, pending: 0, last: .failed, accepted: "f1", current: "f1", expected: .error, why: "a later attempt failed"),
        Row(syncToSIS: true, pending: 0, last: .failed, accepted: "f1", current: "f2", expected: .error, why: "failed beats updates available"),
        Row(syncToSIS: true, pending: 0, last: .succeeded, accepted: nil, current: "f1", expected: .notSynced, why: "no accepted fingerprint yet"),
        Row(syncToSIS: false, pending: 0, last: nil, accepted: nil, current: "f1", expected: .optOut, why: "opted out, never sent"),
        Row(syncToSIS: false, pending: 2, last: .failed, accepted: "f1", current: "f2", expected: .optOut, why: "opted out beats everything"),
        Row(syncToSIS: false, pending: 0, last: .succeeded, accepted: "f1", current: "f1", expected: .optOut, why: "opted out after a success"),
    ]

    @Test("status follows PRODUCT.md's precedence", arguments: table)
    func status(_ row: Row) {
        #expect(
            StatusRules.status(
                syncToSIS: row.syncToSIS, pendingJobs: row.pending, lastAttempt: row.last, acceptedFingerprint: row.accepted,
                currentFingerprint: row.current) == row.expected)
    }

    @Test("the table reaches every status")
    func coversEveryStatus() {
        #expect(Set(Self.table.map(\.expected)) == Set(SyncStatus.allCases))
    }

    @Test("a typical life: not synced, in progress, successful, updates available, error, successful again")
    func lifecycle() {
        func s(_ pending: Int, _ last: LastAttempt?, _ accepted: String?, _ current: String) -> SyncStatus {
            StatusRules.status(syncToSIS: true, pendingJobs: pending, lastAttempt: last, acceptedFingerprint: accepted, currentFingerprint: current)
        }
        #expect(s(0, nil, nil, "a") == .notSynced)
        #expect(s(2, nil, nil, "a") == .inProgress)
        #expect(s(0, .succeeded, "a", "a") == .successful)
        #expect(s(0, .succeeded, "a", "b") == .updatesAvailable)
        #expect(s(1, .succeeded, "a", "b") == .inProgress)
        #expect(s(0, .failed, "a", "b") == .error)
        #expect(s(0, .succeeded, "b", "b") == .successful)
    }
}
