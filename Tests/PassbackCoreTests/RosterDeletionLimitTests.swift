import PassbackCore
import Testing

@Suite("How much a complete roster listing may delete")
struct RosterDeletionLimitTests {
    static let table: [(deleting: Int, active: Int, listedNothing: Bool, allow: Bool, expected: RosterDeletionLimit.Refusal?)] = [
        (0, 100, false, false, nil),
        (20, 100, false, false, nil), // 20 % exactly
        (21, 100, false, false, .overLimit), // 21 % and more than 10 rows
        (10, 12, false, false, nil), // 83 %, but only 10 rows
        (11, 12, false, false, .overLimit),
        (11, 1_000, false, false, nil), // 1.1 %
        (3, 3, true, false, .emptyListing), // an empty listing, however small
        (0, 0, true, false, nil), // nothing there, nothing to delete
        (21, 100, false, true, nil), // the operator said go
        (3, 3, true, true, nil)
    ]

    @Test("refusals, case by case", arguments: table.indices)
    func refusal(_ i: Int) {
        let c = Self.table[i]
        #expect(RosterDeletionLimit(allowMassDelete: c.allow).refusal(deleting: c.deleting, active: c.active, listedNothing: c.listedNothing) == c.expected)
    }

    @Test("the limits are configurable")
    func configurable() {
        let strict = RosterDeletionLimit(maxShare: 0.05, maxRows: 0)
        #expect(strict.refusal(deleting: 6, active: 100, listedNothing: false) == .overLimit)
        #expect(strict.refusal(deleting: 5, active: 100, listedNothing: false) == nil)
        #expect(strict.shareText == "5 %")
    }
}
