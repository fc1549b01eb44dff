import Foundation
import Testing

@testable import OneRoster

@Suite("Filters")
struct FilterTests {
    @Test("typed filters print in the 1.1 grammar")
    func build() {
        let f = Filter.modifiedSince(DateTime.parse("2026-01-01T00:00:00Z")!).and(.field("role", .equal, "student"))
        #expect(f.description == "dateLastModified>'2026-01-01T00:00:00Z' AND role='student'")
        #expect(Filter.field("title", .contains, "quiz").or(.field("title", .contains, "test")).description == "title~'quiz' OR title~'test'")
    }

    @Test(
        "the parser reads back what the builder writes",
        arguments: [
            "dateLastModified>'2026-01-01T00:00:00Z'", "role='student' AND status!='tobedeleted'", "title~'a b' OR title~'c AND d'", "score>='9.5'"
        ])
    func parse(text: String) throws {
        #expect(try Filter.parse(text).description == text)
    }

    @Test(
        "bad filters are refused with a reason",
        arguments: [
            "role=student", "role='student' AND x='1' OR y='2'", "='x'", "role=='x'", "role='x", "role='x' NOR b='y'"
        ])
    func refuse(text: String) {
        #expect(throws: Filter.ParseError.self) { try Filter.parse(text) }
    }

    @Test("a filter is percent-encoded whole in the query string")
    func encoding() {
        let q = ListQuery(filter: .field("title", .equal, "A&B = 'C'+D")).queryItems(limit: 5, offset: 0)
        #expect(PercentEncoding.query(q) == "limit=5&offset=0&filter=title%3D%27A%26B%20%3D%20%27C%27%2BD%27")
        #expect(!PercentEncoding.query(q).contains("+"))
    }
}

@Suite("Errors and classification")
struct ErrorTests {
    @Test(
        "every status maps to the action the worker needs",
        arguments: [
            (400, "", OneRosterError.Kind.invalidData), (401, "", .auth), (403, "forbidden", .auth), (403, "Rate Limit Exceeded", .rateLimited),
            (404, "", .notFound), (409, "", .invalidData), (422, "", .invalidData), (429, "", .rateLimited), (500, "", .retryable),
            (502, "", .retryable), (503, "", .retryable), (408, "", .retryable)
        ])
    func classify(status: Int, body: String, kind: OneRosterError.Kind) {
        #expect(OneRosterError.classify(status: status, bodyText: body) == kind)
    }

    @Test("imsx status info is read bare or wrapped")
    func imsx() {
        let bare =
            #"{"imsx_codeMajor":"failure","imsx_severity":"error","imsx_description":"lineItem.title: too long","imsx_CodeMinor":{"imsx_codeMinorField":[{"imsx_codeMinorFieldName":"TargetEndSystem","imsx_codeMinorFieldValue":"invaliddata"}]}}"#
        let b = ErrorBody.parse(Data(bare.utf8))
        #expect(b?.codeMajor == "failure")
        #expect(b?.description == "lineItem.title: too long")
        #expect(b?.codeMinor == ["invaliddata"])
        let wrapped = #"{"imsx_StatusInfo":{"imsx_codeMajor":"failure","imsx_description":"nope"}}"#
        #expect(ErrorBody.parse(Data(wrapped.utf8))?.description == "nope")
    }

    @Test(
        "the other body shapes seen in the wild are read too",
        arguments: [
            (
                #"{"statusInfoSet":[{"imsx_codeMajor":"failure","imsx_severity":"error","imsx_CodeMinor":{"imsx_codeMinorField":[{"imsx_codeMinorFieldValue":"unknownobject"}]}}]}"#,
                nil as String?, "unknownobject" as String?
            ),
            (#"{"CodeMajor":"failure","Severity":"error","Description":"Class not found","CodeMinor":"unknownobject"}"#, "Class not found", "unknownobject"),
            (#"{"error":"invalid_client","error_description":"bad secret"}"#, "bad secret", nil),
            (#"{"error":"Rate limit exceeded"}"#, "Rate limit exceeded", nil),
            ("Service   Unavailable\n", "Service Unavailable", nil)
        ])
    func lenient(body: String, description: String?, minor: String?) {
        let b = ErrorBody.parse(Data(body.utf8))
        #expect(b != nil)
        #expect(b?.description == description)
        #expect(b?.codeMinor.first == minor)
    }

    @Test("a response becomes a typed error with an excerpt and Retry-After")
    func fromResponse() {
        let long = String(repeating: "x", count: 1000)
        let e = OneRosterError(operation: "PUT results/r1", response: HTTPResponse(status: 429, headers: ["Retry-After": "7"], body: Data(long.utf8)))
        #expect(e.kind == .rateLimited)
        #expect(e.retryAfter == .seconds(7))
        #expect((e.bodyExcerpt?.count ?? 0) <= 301)
    }

    @Test("Retry-After is read as seconds or as any HTTP date form")
    func retryAfter() {
        let when = DateTime.parse("1994-11-06T08:49:37Z")!
        #expect(RetryAfter.parse("120") == .seconds(120))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT") == .date(when))
        #expect(RetryAfter.parse("Sunday, 06-Nov-94 08:49:37 GMT") == .date(when))
        #expect(RetryAfter.parse("Sun Nov  6 08:49:37 1994") == .date(when))
        #expect(RetryAfter.parse("soon") == nil)
        #expect(RetryAfter.date(when).delay(from: when.addingTimeInterval(-30)) == 30)
        #expect(RetryAfter.date(when).delay(from: when.addingTimeInterval(30)) == 0)
        #expect(HTTPDate.format(when) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test("Link headers give their relations")
    func links() {
        let l = LinkHeader.parse(#"<http://h/x?offset=10>; rel="next", <http://h/x?offset=90>; rel="last""#)
        #expect(l.map(\.rel) == ["next", "last"])
        #expect(l[0].url == "http://h/x?offset=10")
    }
}

@Suite("OAuth 1.0a signatures")
struct OAuth1Tests {
    // Reference values computed independently (Python hmac + urllib.parse.quote with safe="-._~").
    static let url = URL(
        string:
            "http://127.0.0.1:8085/ims/oneroster/v1p1/users?limit=100&offset=0&filter=dateLastModified%3E%272026-01-01T00%3A00%3A00Z%27%20AND%20role%3D%27student%27"
    )!

    func header(_ method: OAuth1Signer.Method) -> [String: String] {
        let signer = OAuth1Signer(
            consumerKey: "key", consumerSecret: "sécret", method: method,
            clock: ManualWallClock(Date(timeIntervalSince1970: 1_790_000_000)), nonce: { "abc123" })
        return OAuth1Signature.parseAuthorizationHeader(signer.authorizationHeader(method: "GET", url: Self.url)) ?? [:]
    }

    @Test("HMAC-SHA256 matches an independent implementation")
    func sha256() {
        #expect(header(.hmacSHA256)["oauth_signature"] == "O9mvzRBj6AWiXIn6iOMwxmlbb28KfEhfUlOYUuVH7Lw=")
    }

    @Test("HMAC-SHA1 matches an independent implementation")
    func sha1() {
        #expect(header(.hmacSHA1)["oauth_signature"] == "w+8dmUB/DM0+6jbLxXdwDSZmf1I=")
    }

    @Test("the header carries every protocol parameter")
    func parameters() {
        let h = header(.hmacSHA256)
        #expect(h["oauth_consumer_key"] == "key")
        #expect(h["oauth_signature_method"] == "HMAC-SHA256")
        #expect(h["oauth_timestamp"] == "1790000000")
        #expect(h["oauth_version"] == "1.0")
        #expect(h["oauth_nonce"] == "abc123")
    }

    @Test("the base string URI drops default ports and the query")
    func baseURI() {
        #expect(OAuth1Signature.baseStringURI(URL(string: "HTTP://Example.COM:80/a/b?x=1")!) == "http://example.com/a/b")
        #expect(OAuth1Signature.baseStringURI(URL(string: "https://example.com:8443/a")!) == "https://example.com:8443/a")
    }
}

@Suite("OAuth 2 refresh margin")
struct RefreshMarginTests {
    @Test("the margin is 10 % of the lifetime, at least 1 s, at most 60 s, never more than half")
    func scalesWithLifetime() {
        let m = TokenRefreshMargin.standard
        #expect(m.margin(forLifetime: 3600) == 60)
        #expect(m.margin(forLifetime: 300) == 30)
        #expect(m.margin(forLifetime: 20) == 2)
        #expect(m.margin(forLifetime: 5) == 1)
        #expect(m.margin(forLifetime: 1) == 0.5)
        #expect(m.margin(forLifetime: 0) == 0)
        #expect(TokenRefreshMargin(fraction: 0.5, floor: 1, ceiling: 120).margin(forLifetime: 3600) == 120)
    }
}
