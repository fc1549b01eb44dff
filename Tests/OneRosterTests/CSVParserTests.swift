import Foundation
import Testing

@testable import OneRoster

@Suite("CSV parser")
struct CSVParserTests {
    @Test("quoted fields keep commas, doubled quotes and line breaks")
    func quotedFields() throws {
        let text = "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"one\r\ntwo\nthree\"\r\nplain,,last\r\n"
        let rows = try CSVParser.parse(text)
        #expect(rows.map(\.fields) == [["a", "b", "c"], ["x, y", "say \"hi\"", "one\r\ntwo\nthree"], ["plain", "", "last"]])
        #expect(rows.map(\.line) == [1, 2, 5])
    }

    @Test("LF, CRLF and CR line ends all end rows and count lines")
    func lineEnds() throws {
        let rows = try CSVParser.parse("a\nb\r\nc\rd")
        #expect(rows.map(\.fields) == [["a"], ["b"], ["c"], ["d"]])
        #expect(rows.map(\.line) == [1, 2, 3, 4])
    }

    @Test("a byte order mark is skipped, blank lines too, and a trailing line break adds no row")
    func bomAndBlankLines() throws {
        let data = Data([0xEF, 0xBB, 0xBF]) + Data("id,name\n\n1,x\n\n".utf8)
        let rows = try CSVParser.parse(data)
        #expect(rows.map(\.fields) == [["id", "name"], ["1", "x"]])
        #expect(rows.map(\.line) == [1, 3])
    }

    @Test("an empty quoted field is a row, not a blank line")
    func emptyQuoted() throws {
        #expect(try CSVParser.parse("\"\"\n,\n").map(\.fields) == [[""], ["", ""]])
    }

    @Test("feeding one byte at a time gives the same rows as parsing at once")
    func chunking() throws {
        let data = Data([0xEF, 0xBB, 0xBF]) + Data("h1,h2\r\n\"é, ü\",\"a\r\nb\"\r\n\"q\"\"\",😀\r\nlast,row".utf8)
        var parser = CSVParser()
        var rows: [CSVParser.Row] = []
        for byte in data { try parser.feed(Data([byte]), into: &rows) }
        try parser.finish(into: &rows)
        #expect(rows == (try CSVParser.parse(data)))
        #expect(rows.map(\.fields) == [["h1", "h2"], ["é, ü", "a\r\nb"], ["q\"", "😀"], ["last", "row"]])
        #expect(rows.map(\.line) == [1, 2, 4, 5])
    }

    @Test("a text shorter than a byte order mark is still read, and a lone byte order mark is an empty file")
    func shortInput() throws {
        #expect(try CSVParser.parse("ab").map(\.fields) == [["ab"]])
        #expect(try CSVParser.parse("é").map(\.fields) == [["é"]])
        #expect(try CSVParser.parse(Data([0xEF, 0xBB, 0xBF])) == [])
        #expect(throws: CSVParser.SyntaxError.self) { try CSVParser.parse(Data([0xEF, 0xBB])) }
    }

    @Test("rows completed before a syntax error are still handed over")
    func rowsBeforeError() {
        var parser = CSVParser()
        var rows: [CSVParser.Row] = []
        #expect(throws: CSVParser.SyntaxError.self) { try parser.feed(Data("a,b\nc,d\ne\"f\n".utf8), into: &rows) }
        #expect(rows.map(\.fields) == [["a", "b"], ["c", "d"]])
    }

    @Test("an unterminated quote names the line where the quote opened")
    func unterminatedQuote() {
        #expect {
            try CSVParser.parse("a,b\n1,\"open\nstill open\n")
        } throws: { error in
            let e = error as? CSVParser.SyntaxError
            return e?.line == 2 && e?.field == 2 && e?.message.contains("unterminated") == true
        }
    }

    @Test("a quote inside an unquoted field is an error at its line and field")
    func strayQuote() {
        #expect {
            try CSVParser.parse("a,b\n1,2\n3,4\"5\n")
        } throws: { error in
            let e = error as? CSVParser.SyntaxError
            return e?.line == 3 && e?.field == 2
        }
    }

    @Test("text after a closing quote is an error")
    func textAfterClosingQuote() {
        #expect(throws: CSVParser.SyntaxError.self) { try CSVParser.parse("\"ab\"c,d\n") }
    }

    @Test("invalid UTF-8 is an error at its line and field")
    func invalidUTF8() {
        #expect {
            try CSVParser.parse(Data("a,b\nok,".utf8) + Data([0xC3, 0x28]) + Data("\n".utf8))
        } throws: { error in
            let e = error as? CSVParser.SyntaxError
            return e?.line == 2 && e?.field == 2 && e?.message.contains("UTF-8") == true
        }
    }
}
