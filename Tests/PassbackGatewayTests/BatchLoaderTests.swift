import Foundation
import Testing

@testable import PassbackGateway

@Suite("Batch loader")
struct BatchLoaderTests {
    actor Calls {
        var batches: [[Int]] = []
        func add(_ keys: [Int]) { batches.append(keys) }
    }

    @Test("siblings load in one fetch; missing keys are cached as missing; concurrent loads share a fetch")
    func batches() async throws {
        let calls = Calls()
        let loader = BatchLoader<Int, String> { keys in
            await calls.add(keys)
            return Dictionary(uniqueKeysWithValues: keys.filter { $0 != 3 }.map { ($0, "v\($0)") })
        }
        let siblings = [1, 2, 3, 4]
        try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for k in siblings { group.addTask { (k, try await loader.load(k, batch: siblings)) } }
            var got: [Int: String?] = [:]
            for try await (k, v) in group { got[k] = v }
            #expect(got == [1: "v1", 2: "v2", 3: nil, 4: "v4"])
        }
        #expect(await calls.batches == [[1, 2, 3, 4]])
        #expect(try await loader.load(3) == nil)
        #expect(try await loader.load(5, batch: [5, 6]) == "v5")
        #expect(await calls.batches == [[1, 2, 3, 4], [5, 6]])
    }
}
