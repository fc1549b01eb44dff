import Foundation
import Testing

@testable import OneRoster

@Suite("JSON values")
struct JSONValueTests {
    @Test("parse then serialize keeps every value, escapes included")
    func roundTrip() throws {
        let text = #"{"a":[1,2.5,-3e2,true,false,null],"b":"q\"uote\\ \u00e9 \ud83d\ude00 \n","c":{}}"#
        let v = try JSONValue.parse(text)
        let again = try JSONValue.parse(v.serialized())
        #expect(v == again)
        #expect(v.objectValue?["b"]?.stringValue == "q\"uote\\ é 😀 \n")
        #expect(v.objectValue?["a"]?.arrayValue?[2] == .number(-300))
    }

    @Test("broken JSON reports where it broke", arguments: ["{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "1 2", "{\"a\":01x}"])
    func syntaxErrors(text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(text) }
    }

    @Test("integers serialize without a fraction")
    func integers() {
        #expect(JSONValue.array([.number(3), .number(2.5), .number(-0.0)]).jsonText == "[3,2.5,0]")
    }
}
