import Testing

@testable import PassbackCore

@Suite("Sync status of a material in a section")
struct StatusRulesTests {
    static let refused = FailedWrite(fingerprint: "L1", code: .sisRejected, message: "title: at most 50 characters", resend: false)
    static let resultRefused = FailedWrite(fingerprint: "R1", code: .sisRejected, message: "student s1: comment too long", resend: false)
    static let authFailed = FailedWrite(fingerprint: "L1", code: .sisAuthFailed, message: "credentials refused", resend: true)
    static let unmapped = Problem(code: .categoryUnmapped, message: "map Homework")
    static let duplicate = Problem(code: .titleNotUnique, message: "two items are called Quiz")

    struct Row: Sendable, CustomTestStringConvertible {
        var facts: StatusFacts
        var expected: SyncStatus
        var code: ProblemCode? = nil
        var why: String
        var testDescription: String { why }
    }

    static let blocked = Problem(code: .sisConnectionBlocked, message: "set CONNECTION_DISTRICT_CLIENT_SECRET")

    static func facts(
        sync: Bool = true, deleted: Bool = false, attempted: Bool = true, pending: Int = 0, rules: [Problem] = [],
        blocked: Problem? = nil, _ objects: SISObjectFacts...
    ) -> StatusFacts {
        StatusFacts(
            syncToSIS: sync, deleted: deleted, attempted: attempted, pendingWrites: pending, ruleErrors: rules, objects: objects,
            connectionBlocked: blocked)
    }
    static func o(_ current: String, _ accepted: String? = nil, _ failure: FailedWrite? = nil) -> SISObjectFacts {
        SISObjectFacts(current: current, accepted: accepted, failure: failure)
    }

    static let table: [Row] = [
        Row(facts: facts(attempted: false, o("L1"), o("R1")), expected: .notSynced, why: "never sent"),
        Row(facts: facts(attempted: false, rules: [unmapped], o("L1")), expected: .notSynced, why: "a failing rule before any run is the dry run's news"),
        Row(facts: facts(pending: 3, o("L1"), o("R1")), expected: .inProgress, why: "first sync queued"),
        Row(facts: facts(pending: 1, rules: [unmapped], o("L1", nil, refused)), expected: .inProgress, why: "writes out beat errors"),
        Row(facts: facts(o("L1", "L1"), o("R1", "R1")), expected: .successful, why: "every object accepted as it is"),
        Row(facts: facts(o("L1", "L1"), o("R2", "R1")), expected: .updatesAvailable, why: "a regrade since"),
        Row(facts: facts(o("L2", "L1"), o("R1", "R1")), expected: .updatesAvailable, why: "a rename since"),
        Row(facts: facts(o("L1", "L1"), o("R1", "R1"), o("R9")), expected: .updatesAvailable, why: "a new grade never sent"),
        Row(facts: facts(rules: [unmapped], o("L1", "L1")), expected: .error, code: .categoryUnmapped, why: "a rule fails now"),
        Row(facts: facts(rules: [], o("L1", "L1")), expected: .successful, why: "the rule that failed passes now (the map was saved)"),
        Row(facts: facts(rules: [], o("L1")), expected: .notSynced, why: "a blocked item whose rule passes now, never sent"),
        Row(facts: facts(deleted: true, rules: [duplicate], o("L1", "L1")), expected: .successful, why: "a deleted material's rules do not apply"),
        Row(facts: facts(deleted: true, o("L1", "L1"), o("R1")), expected: .updatesAvailable, why: "deleted with results never sent"),
        Row(facts: facts(o("L1", "L1"), o("R1", "R1")), expected: .successful, why: "restored, its SIS object unchanged"),
        Row(facts: facts(o("L1", nil, refused)), expected: .error, code: .sisRejected, why: "the SIS refused this very lineItem"),
        Row(facts: facts(o("L2", nil, refused)), expected: .notSynced, why: "refused content changed since, never accepted"),
        Row(facts: facts(o("L2", "L0", refused)), expected: .updatesAvailable, why: "refused content changed since, an older one accepted"),
        Row(facts: facts(o("L1", "L1", refused)), expected: .successful, why: "accepted after the refusal (on purpose)"),
        Row(facts: facts(o("L1", "L1"), o("R1", nil, resultRefused), o("R2", "R2")), expected: .error, code: .sisRejected, why: "one result refused"),
        Row(facts: facts(o("L1", nil, authFailed)), expected: .error, code: .sisAuthFailed, why: "not delivered: credentials"),
        Row(
            facts: facts(pending: 31, blocked: blocked, o("L1"), o("R1")), expected: .error, code: .sisConnectionBlocked,
            why: "writes held on a blocked connection"),
        Row(facts: facts(pending: 0, blocked: blocked, o("L1", "L1")), expected: .successful, why: "a blocked connection holds nothing of this item"),
        Row(facts: facts(sync: false, pending: 3, blocked: blocked, o("L1")), expected: .optOut, why: "opted out beats a blocked connection"),
        Row(facts: facts(sync: false, o("L1")), expected: .optOut, why: "opted out, never sent"),
        Row(facts: facts(sync: false, pending: 2, rules: [unmapped], o("L1", "L0", refused)), expected: .optOut, why: "opted out beats everything"),
        Row(facts: facts(sync: false, o("L1", "L1")), expected: .optOut, why: "opted out after a success")
    ]

    @Test("status follows PRODUCT.md's precedence", arguments: table)
    func status(_ row: Row) {
        let d = StatusRules.decide(row.facts)
        #expect(d.status == row.expected)
        #expect(d.error?.code == row.code, "the error shown")
        #expect((d.status == .error) == (d.error != nil), "an error exactly when ERROR")
    }

    @Test("the table reaches every status")
    func coversEveryStatus() {
        #expect(Set(Self.table.map(\.expected)) == Set(SyncStatus.allCases))
    }

    @Test("several rule errors: the first is shown and the others are counted")
    func severalRuleErrors() {
        let d = StatusRules.decide(Self.facts(rules: [Self.duplicate, Self.unmapped], Self.o("L1")))
        #expect(d.error?.code == .titleNotUnique)
        #expect(d.error?.message == "two items are called Quiz (and 1 more problem)")
    }

    @Test("the lineItem's own refusal is shown before its results' failures")
    func lineItemFirst() {
        let waited = FailedWrite(fingerprint: "R1", code: .sisRejected, message: "not sent: it waits on PUT lineItems/L", resend: true)
        let d = StatusRules.decide(Self.facts(Self.o("L1", nil, Self.refused), Self.o("R1", nil, waited)))
        #expect(d.error?.message == Self.refused.message)
    }

    struct SendRow: Sendable, CustomTestStringConvertible {
        var object: SISObjectFacts
        var sends: Bool
        var why: String
        var testDescription: String { why }
    }

    static let sends: [SendRow] = [
        SendRow(object: o("R1"), sends: true, why: "never sent"),
        SendRow(object: o("R1", "R1"), sends: false, why: "the SIS holds it as it is"),
        SendRow(object: o("R2", "R1"), sends: true, why: "changed since accepted"),
        SendRow(object: o("R1", nil, resultRefused), sends: false, why: "the SIS refused this very content"),
        SendRow(object: o("R2", nil, resultRefused), sends: true, why: "refused content changed since"),
        SendRow(object: o("L1", nil, authFailed), sends: true, why: "not delivered for another reason: sent again")
    ]

    @Test(
        "Sync Changes sends an object only when its content differs from what the SIS accepted, and never the refused content again",
        arguments: sends)
    func sendsOnChanges(_ row: SendRow) {
        #expect(row.object.sendsOnChanges == row.sends)
    }
}
