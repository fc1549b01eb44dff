import Crypto
import CryptoExtras
import Foundation
import GRDB
import PassbackConfig
import PassbackCore
import Testing

@testable import PassbackGateway
@testable import PassbackStore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An LMS launching Passback with LTI 1.3, end to end over loopback HTTP: a platform emulator of
/// its own (`Tests/scripts/lti_platform.py`: PyJWT and cryptography sign its launches, not our
/// code) starts the OIDC login, Passback redirects to its authorization endpoint, which posts an
/// id_token back, and Passback verifies it, finds the teacher and sections in the roster, links
/// the LMS course and signs the page in.
@Suite("LTI 1.3 launches", .serialized)
struct LTILaunchTests {
    /// The emulator, running.
    final class Platform: @unchecked Sendable {
        let process = Process()
        /// Its stdin: closed when this ends (or the test process does), which ends it.
        let input = Pipe()
        let base: String

        init() throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", root.appending(path: "Tests/scripts/lti_platform.py").path]
            let out = Pipe()
            process.standardOutput = out
            process.standardInput = input
            // Not the test's own output: swift test reads that until every holder closes it.
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = out.fileHandleForReading.availableData
                guard !chunk.isEmpty else {
                    throw HarnessFailure("the LTI platform emulator did not start (is PyJWT installed? pip install PyJWT cryptography)")
                }
                line.append(chunk)
            }
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6)) else { throw HarnessFailure("the emulator said: \(text)") }
            base = "http://127.0.0.1:\(port)"
        }

        func stop() {
            try? input.fileHandleForWriting.close()
            process.forceStop()
        }

        deinit { stop() }

        /// How the next launch differs from an Instructor's in course lti-course-1.
        func next(_ plan: [String: Any]) async throws {
            var request = URLRequest(url: URL(string: base + "/next")!)
            request.httpMethod = "POST"
            request.httpBody = try JSONSerialization.data(withJSONObject: plan)
            _ = try await URLSession.shared.data(for: request)
        }

        func rotate() async throws {
            var request = URLRequest(url: URL(string: base + "/rotate")!)
            request.httpMethod = "POST"
            _ = try await URLSession.shared.data(for: request)
        }
    }

    /// Answers without following redirects: the test follows them as a browser would.
    final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
            completionHandler: @escaping (URLRequest?) -> Void
        ) { completionHandler(nil) }
    }
    static let session = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)

    struct Page {
        var status: Int
        var text: String
        var headers: [String: String]
        /// A `meta` element's content.
        func meta(_ name: String) -> String? {
            guard let range = text.range(of: "<meta name=\"\(name)\" content=\"") else { return nil }
            return String(text[range.upperBound...].prefix { $0 != "\"" })
        }
        /// A hidden form field's value.
        func field(_ name: String) -> String? {
            guard let range = text.range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(text[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    static func get(_ url: String) async throws -> Page {
        let (data, response) = try await session.data(from: URL(string: url)!)
        let http = response as! HTTPURLResponse
        return Page(
            status: http.statusCode, text: String(decoding: data, as: UTF8.self),
            headers: Dictionary(http.allHeaderFields.map { ("\($0.key)".lowercased(), "\($0.value)") }) { a, _ in a })
    }

    static func post(_ url: String, form: [String: String], bearer: String? = nil) async throws -> Page {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        request.httpBody = Data(
            form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&").utf8)
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        return Page(status: http.statusCode, text: String(decoding: data, as: UTF8.self), headers: [:])
    }

    /// The browser's part: the login the LMS starts, the redirect to its authorization
    /// endpoint, and the form it posts back; at a user's first launch, the approval page's
    /// Allow (unless `approve` is false). Returns the last page and what the launch posted.
    static func launch(
        _ env: GatewayEnv, _ platform: Platform, loginHint: String = "lms-user-1", approve: Bool = true
    ) async throws -> (
        page: Page, posted: [String: String]
    ) {
        var query = URLComponents(string: env.base.absoluteString + "/lti/login")!
        query.queryItems = [
            URLQueryItem(name: "iss", value: platform.base), URLQueryItem(name: "login_hint", value: loginHint),
            URLQueryItem(name: "target_link_uri", value: env.base.absoluteString + "/lti/launch"),
            URLQueryItem(name: "lti_message_hint", value: "hint-1")
        ]
        let login = try await get(query.string!)
        guard login.status == 302, let location = login.headers["location"] else { return (login, [:]) }
        let authorization = try await get(location)
        #expect(authorization.status == 200, "\(authorization.text)")
        let posted = ["id_token": authorization.field("id_token") ?? "", "state": authorization.field("state") ?? ""]
        let action = authorization.text.range(of: "action=\"").map { String(authorization.text[$0.upperBound...].prefix { $0 != "\"" }) } ?? ""
        #expect(action == env.base.absoluteString + "/lti/launch")
        let launched = try await post(action, form: posted)
        if approve, let ticket = launched.field("ticket") {
            return (try await post(env.base.absoluteString + "/lti/approve", form: ["ticket": ticket, "decision": "approve"]), posted)
        }
        return (launched, posted)
    }

    static let instructor = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    static let claim = "https://purl.imsglobal.org/spec/lti/claim/"

    /// A registered platform and a teacher with two sections.
    static func withPlatform(_ body: @Sendable (GatewayEnv, Platform, _ teacher: String, _ sections: [String]) async throws -> Void) async throws {
        try await withGateway { env in
            let platform = try Platform()
            defer { platform.stop() }
            try LTIStore(env.database).register(
                LTIStore.Registration(
                    issuer: platform.base, clientID: "passback-client", deploymentIDs: ["deployment-1"], authURL: platform.base + "/auth",
                    jwksURL: platform.base + "/jwks", orgSourcedId: env.districtOrg), at: Date())
            let (teacher, sections) = env.sectionsByTeacher.filter { $0.value.count >= 2 }.sorted { $0.key < $1.key }.first!
            try await body(env, platform, teacher, Array(sections.sorted().prefix(2)))
        }
    }

    static func teacherLaunch(_ teacher: String, _ sections: [String], course: String = "lti-course-1") -> [String: Any] {
        [
            "claims": [
                claim + "lis": ["person_sourcedid": teacher, "course_section_sourcedid": sections.joined(separator: ",")],
                claim + "context": ["id": course, "title": "Algebra"]
            ]
        ]
    }

    @Test("an Instructor's launch signs the page in as the rostered teacher, links the course to the sections it names, and the session renews")
    func teacherLaunches() async throws {
        try await Self.withPlatform { env, platform, teacher, sections in
            try await platform.next(Self.teacherLaunch(teacher, sections))
            let (page, _) = try await Self.launch(env, platform)
            #expect(page.status == 200, "\(page.text)")
            let token = try #require(page.meta("passback-session"))
            #expect(token.hasPrefix("pb_"))
            #expect(page.meta("passback-sections") == sections.joined(separator: ","))
            #expect(page.text.contains("/widget/widget.js"))
            // The session acts as the teacher, on the launched sections.
            let viewer = try await env.post("{ viewer { role userSourcedId sections(first: 50) { nodes { sourcedId } } } }", token: token)
            #expect(viewer["viewer", "role"] as? String == "TEACHER")
            #expect(viewer["viewer", "userSourcedId"] as? String == teacher)
            let taught = Set(((viewer["viewer", "sections", "nodes"] as? [[String: Any]]) ?? []).compactMap { $0["sourcedId"] as? String })
            #expect(Set(sections).isSubset(of: taught))
            // The LMS course (its LTI context id) is linked to both sections.
            let lms = LMSStore(env.database)
            let classes = try sections.map { try lms.classID(connection: env.connection.settings.id, sourcedId: $0) }
            let courses = try classes.map { try $0.flatMap { try lms.courseID(ofSection: $0) } }
            #expect(courses[0] != nil && courses[0] == courses[1], "\(courses)")
            // A short-lived session of origin lti, which the page renews; an issued token is not renewed.
            let info = try #require(try TokenStore(env.database).list().last)
            let expires = try #require(info.expiresAt)
            #expect(expires.timeIntervalSinceNow < 3700 && expires.timeIntervalSinceNow > 3000)
            let renewed = try await Self.post(env.base.absoluteString + "/lti/session", form: [:], bearer: token)
            #expect(renewed.status == 200 && renewed.text.contains("expiresAt"), "\(renewed.text)")
            // Only Passback itself and the registered LMS may frame the widget (clickjacking).
            let widget = try await Self.get(env.base.absoluteString + "/widget")
            let policy = widget.headers["content-security-policy"] ?? ""
            #expect(policy.contains("frame-ancestors 'self' \(platform.base)") && !policy.contains("*"), "\(policy)")
            let issued = try env.token(.teacher, user: teacher)
            #expect(try await Self.post(env.base.absoluteString + "/lti/session", form: [:], bearer: issued).status == 401)
        }
    }

    @Test("every launch that must not sign anyone in is refused with a page saying what to fix")
    func refusals() async throws {
        try await Self.withPlatform { env, platform, teacher, sections in
            let good = Self.teacherLaunch(teacher, sections)
            func refused(
                _ plan: [String: Any], _ status: Int, _ says: String, loginHint: String = "lms-user-1", sourceLocation: SourceLocation = #_sourceLocation
            )
                async throws
            {
                var merged = good
                for (k, v) in plan {
                    if k == "claims", let extra = v as? [String: Any] {
                        merged["claims"] = (good["claims"] as! [String: Any]).merging(extra) { _, new in new }
                    } else {
                        merged[k] = v
                    }
                }
                try await platform.next(merged)
                let (page, _) = try await Self.launch(env, platform, loginHint: loginHint)
                #expect(page.status == status, "\(page.text)", sourceLocation: sourceLocation)
                #expect(page.text.contains(says), "\(page.text)", sourceLocation: sourceLocation)
                #expect(page.text.contains("To fix:"), sourceLocation: sourceLocation)
                #expect(page.meta("passback-session") == nil, sourceLocation: sourceLocation)
            }
            let before = try TokenStore(env.database).list().count
            try await refused(["key": "stray"], 401, "signature does not verify")
            try await refused(["exp_in": -600], 401, "has expired")
            try await refused(["iat_in": 600], 401, "dated in the future")
            try await refused(["claims": ["aud": "another-tool"]], 401, "meant for another tool")
            try await refused(["claims": ["aud": ["passback-client", "another-tool"], "azp": "another-tool"]], 401, "meant for another tool")
            try await refused(["claims": ["nonce": "not-the-login-nonce"]], 401, "does not belong to its login")
            try await refused(["claims": [Self.claim + "deployment_id": "deployment-9"]], 403, "deployment-9")
            try await refused(["alg": "RS512"], 401, "algorithm LTI does not allow")
            try await refused(["alg": "none"], 401, "algorithm LTI does not allow")
            try await refused(["kid": "no-such-key"], 401, "key the LMS does not publish")
            try await refused(["claims": [Self.claim + "message_type": "LtiDeepLinkingRequest"]], 400, "course link only")
            try await refused(["claims": [Self.claim + "version": "1.1"]], 400, "not LTI 1.3.0")
            try await refused(["claims": ["iss": "https://elsewhere.example"]], 401, "another issuer")
            try await refused(
                ["claims": [Self.claim + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]]], 403, "instructors and administrators")
            try await refused(
                ["claims": [Self.claim + "lis": ["person_sourcedid": "nobody-here", "course_section_sourcedid": sections[0]]]], 403, "not in the SIS roster")
            try await refused(
                ["claims": [Self.claim + "lis": ["person_sourcedid": teacher, "course_section_sourcedid": "no-such-section"]]], 403, "no-such-section")
            // A section of another teacher's.
            let other = env.sectionsByTeacher.filter { $0.key != teacher }.flatMap(\.value).first { !sections.contains($0) }!
            try await refused(
                ["claims": [Self.claim + "lis": ["person_sourcedid": teacher, "course_section_sourcedid": other]]], 403, "does not list you as this section")
            #expect(try TokenStore(env.database).list().count == before, "a refused launch made a session")

            // Replayed: the same id_token and state posted again.
            try await platform.next(good)
            let (first, posted) = try await Self.launch(env, platform)
            #expect(first.status == 200, "\(first.text)")
            let replay = try await Self.post(env.base.absoluteString + "/lti/launch", form: posted)
            #expect(replay.status == 401 && replay.text.contains("already used"), "\(replay.text)")

            // A section already linked to another LMS course is refused, not moved.
            try await platform.next(Self.teacherLaunch(teacher, [sections[0]], course: "lti-course-2"))
            let (moved, _) = try await Self.launch(env, platform)
            #expect(moved.status == 409 && moved.text.contains("another LMS course"), "\(moved.text)")

            // An issuer nobody registered, at the login.
            let unknown = try await Self.get(env.base.absoluteString + "/lti/login?iss=https%3A%2F%2Fnot-registered.example&login_hint=x")
            #expect(unknown.status == 403 && unknown.text.contains("passback lti platform add"), "\(unknown.text)")
        }
    }

    @Test(
        "a user's first launch asks their approval (what is sent, to which SIS) before anything is linked or signed in; it is remembered; a ticket is answered once"
    )
    func firstLaunchAsksApproval() async throws {
        try await Self.withPlatform { env, platform, teacher, sections in
            let tokensBefore = try TokenStore(env.database).list().count
            try await platform.next(Self.teacherLaunch(teacher, sections))
            let (asked, _) = try await Self.launch(env, platform, approve: false)
            #expect(
                asked.status == 200 && asked.text.contains("Allow Passback for") && asked.text.contains(env.connection.settings.baseURL.absoluteString),
                "\(asked.text)")
            // Its sections by title (and sourcedId), as the teacher knows them.
            let title = try #require(env.data.all(.classes).first { $0["sourcedId"]?.stringValue == sections[0] }?["title"]?.stringValue)
            #expect(asked.text.contains(Gateway.html("\(title) (\(sections[0]))")), "\(asked.text)")
            #expect(asked.meta("passback-session") == nil)
            let ticket = try #require(asked.field("ticket"))
            // Nothing yet: no session, no course linked.
            #expect(try TokenStore(env.database).list().count == tokensBefore)
            let lms = LMSStore(env.database)
            let classID = try #require(try lms.classID(connection: env.connection.settings.id, sourcedId: sections[0]))
            #expect(try lms.courseID(ofSection: classID) == nil)
            // Declined: nothing made, and the ticket is spent.
            let declined = try await Self.post(env.base.absoluteString + "/lti/approve", form: ["ticket": ticket, "decision": "decline"])
            #expect(declined.status == 403 && declined.text.contains("not approved"), "\(declined.text)")
            let again = try await Self.post(env.base.absoluteString + "/lti/approve", form: ["ticket": ticket, "decision": "approve"])
            #expect(again.status == 401 && again.text.contains("already given"), "\(again.text)")
            #expect(try TokenStore(env.database).list().count == tokensBefore)
            // Allowed at the next launch: signed in, the course linked; the launch after goes straight in.
            let (allowed, _) = try await Self.launch(env, platform)
            #expect(allowed.status == 200 && allowed.meta("passback-session") != nil, "\(allowed.text)")
            #expect(try lms.courseID(ofSection: classID) != nil)
            let (straight, _) = try await Self.launch(env, platform, approve: false)
            #expect(straight.status == 200 && straight.meta("passback-session") != nil && straight.field("ticket") == nil, "\(straight.text)")
        }
    }

    @Test("a database that fails during a login gives a 503 page saying to try again, with nothing of the database's error on it")
    func databaseFailure() async throws {
        try await Self.withPlatform { env, platform, _, _ in
            try await env.database.pool.write { db in try db.execute(sql: "ALTER TABLE lti_login RENAME TO lti_login_gone") }
            var query = URLComponents(string: env.base.absoluteString + "/lti/login")!
            query.queryItems = [
                URLQueryItem(name: "iss", value: platform.base), URLQueryItem(name: "login_hint", value: "lms-user-1"),
                URLQueryItem(name: "target_link_uri", value: env.base.absoluteString + "/lti/launch")
            ]
            let page = try await Self.get(query.string!)
            #expect(page.status == 503, "\(page.text)")
            #expect(page.text.contains("Passback could not start the login") && page.text.contains("To fix:"), "\(page.text)")
            for leak in ["lti_login", "SQLite", "INSERT", "DELETE"] { #expect(!page.text.contains(leak), "\(leak) on the page: \(page.text)") }
        }
    }

    @Test("a platform that rotates its key is verified with the new one (its JWKS fetched again for an unknown kid)")
    func keyRotation() async throws {
        try await Self.withPlatform { env, platform, teacher, sections in
            try await platform.next(Self.teacherLaunch(teacher, sections))
            #expect(try await Self.launch(env, platform).page.status == 200)
            try await platform.rotate()
            // Keys are fetched again for an unknown kid at most once a second.
            try await Task.sleep(for: .milliseconds(1100))
            let (page, _) = try await Self.launch(env, platform)
            #expect(page.status == 200, "\(page.text)")
            #expect(page.meta("passback-session") != nil)
        }
    }

    @Test(
        "in Chromium with third-party cookies blocked, a course page on one site launches Passback on another into an iframe: the widget opens the course's section, no token in any URL, a status changes live and the session renews"
    )
    func browserLaunchInIframe() async throws {
        try await Self.withPlatform { env, platform, teacher, sections in
            // The LMS feed has the course and one graded item in each of its sections already.
            let integration = try env.token(.integration, user: "lms-feed")
            let fedCourse = try await env.post(
                GatewayEnv.feedDocuments["upsertLmsCourse"]!,
                ["input": ["lmsId": "lti-course-1", "title": "Algebra", "sectionSourcedIds": sections, "categories": [["lmsId": "lc-0", "title": "Homework"]]]],
                token: integration)
            #expect((fedCourse["upsertLmsCourse", "userErrors"] as? [Any])?.isEmpty == true, "\(fedCourse.text)")
            let fed = try await env.post(
                GatewayEnv.feedDocuments["upsertMaterials"]!,
                ["input": ["courseLmsId": "lti-course-1", "materials": [["lmsId": "m-0", "title": "Quiz 1", "categoryLmsId": "lc-0", "maxPoints": 10]]]],
                token: integration)
            #expect((fed["upsertMaterials", "userErrors"] as? [Any])?.isEmpty == true, "\(fed.text)")
            try await platform.next(Self.teacherLaunch(teacher, sections))
            // The LMS (its course page, and the authorization page that posts the launch) is on
            // 127.0.0.1, Passback on localhost: two sites, as an LMS and a district's Passback are.
            let passback = env.base.absoluteString.replacingOccurrences(of: "127.0.0.1", with: "localhost")
            var login = URLComponents(string: passback + "/lti/login")!
            login.queryItems = [
                URLQueryItem(name: "iss", value: platform.base), URLQueryItem(name: "login_hint", value: "lms-user-1"),
                URLQueryItem(name: "target_link_uri", value: passback + "/lti/launch")
            ]
            var course = URLComponents(string: platform.base + "/course")!
            course.queryItems = [URLQueryItem(name: "launch", value: login.string!)]
            let browser = try await WebDriver(prefs: ["profile.cookie_controls_mode": 1, "profile.block_third_party_cookies": true])
            do {
                try await browser.open(course.string!)
                try await browser.frame("#tool")
                // The first launch asks the teacher's approval, in the frame.
                try await browser.wait("the approval page", "return !!document.getElementById('approve')")
                try await browser.frame(nil)
                try await browser.screenshot(to: WidgetBrowserTests.screenshots.appending(path: "lti-first-launch-approval.png"))
                try await browser.frame("#tool")
                try await browser.click("#approve")
                try await browser.wait(
                    "the widget, signed in by the launch", "return !!document.getElementById('app') && !document.getElementById('app').hidden")
                // The launch's section is the one open.
                let open = try await browser.script(
                    "const s = document.getElementById('section'); return state.sections.find((x) => x.id === s.value)?.sourcedId")
                #expect(sections.contains(open as? String ?? ""), "\(String(describing: open))")
                // The frame is cross-site and its cookies are blocked: nothing here depends on them.
                let cookie = try await browser.script(
                    "document.cookie = 'probe=1; SameSite=None; Secure'; document.cookie = 'probe2=1'; return document.cookie")
                #expect((cookie as? String ?? "x").isEmpty, "cookies were kept in the frame: \(String(describing: cookie))")
                // The session is nowhere in a URL, and its meta element is gone.
                let href = try await browser.script("return location.href + ' ' + document.referrer")
                #expect(!(href as? String ?? "pb_").contains("pb_"))
                #expect(try await browser.script("return document.querySelector('meta[name=passback-session]') === null") as? Bool == true)
                #expect(try await browser.script("return (sessionStorage.getItem('passback.token') || '').startsWith('pb_')") as? Bool == true)
                // Live updates reach the frame: the item, opted out by the teacher elsewhere, changes in the row.
                try await browser.wait("the section's item", "return document.querySelectorAll('#materials tbody tr').length === 1")
                let material = try #require(try await browser.script("return document.querySelector('#materials tbody tr').dataset.id") as? String)
                // The page's stream is open at the server before the change is made.
                try await env.waitUntil { env.gateway.api.live.count >= 1 }
                try await Task.sleep(for: .milliseconds(300))
                let optedOut = try await env.post(
                    "mutation($i: SetMaterialSyncToSISInput!) { setMaterialSyncToSIS(input: $i) { material { syncStatus } } }",
                    ["i": ["materialId": material, "syncToSIS": false]], token: try env.token(.teacher, user: teacher))
                #expect(optedOut["setMaterialSyncToSIS", "material", "syncStatus"] as? String == "OPT_OUT", "\(optedOut.text)")
                try await browser.wait(
                    "the row's live change", timeout: 15, "return document.querySelector('#materials tbody tr .status').innerText === 'Opt out'")
                // The session renews from the frame (as the page does every 10 minutes), and the page stays signed in.
                _ = try await browser.script(
                    """
                    window.renewed = null;
                    renewSession().then(() => fetch('/lti/session', { method: 'POST', headers: { Authorization: 'Bearer ' + state.token } }))
                      .then((r) => { window.renewed = r.status; });
                    """)
                try await browser.wait("the renewal", "return window.renewed === 200")
                #expect(try await browser.script("return document.getElementById('signin').hidden") as? Bool == true, "still signed in")
                try await browser.frame(nil)
                try await browser.screenshot(to: WidgetBrowserTests.screenshots.appending(path: "lti-launch-in-course.png"))
            } catch {
                try? await browser.screenshot(to: FileManager.default.temporaryDirectory.appending(path: "lti-launch-failure.png"))
                await browser.quit()
                throw error
            }
            await browser.quit()
        }
    }

    @Test(
        "an Administrator's launch acts as an admin of the org the registration names, only for a user the roster lists as an administrator; an email never stands in for an unknown sourcedId"
    )
    func administratorLaunch() async throws {
        try await Self.withPlatform { env, platform, teacher, sections in
            let admin = try #require(
                env.data.all(.users).first { $0["role"]?.stringValue == "administrator" }?["sourcedId"]?.stringValue)
            func administrator(_ user: String, role: String = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator") -> [String: Any] {
                ["claims": [Self.claim + "roles": [role], Self.claim + "lis": ["person_sourcedid": user]]]
            }
            // A teacher the LMS calls an Administrator is not one: the roster decides.
            try await platform.next(administrator(teacher))
            let teacherAsAdmin = try await Self.launch(env, platform).page
            #expect(teacherAsAdmin.status == 403 && teacherAsAdmin.text.contains("does not list you as an administrator"), "\(teacherAsAdmin.text)")
            // A course's own Administrator role makes no one an org admin.
            try await platform.next(administrator(admin, role: "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"))
            let courseAdmin = try await Self.launch(env, platform).page
            #expect(courseAdmin.status == 403 && courseAdmin.text.contains("instructors and administrators"), "\(courseAdmin.text)")
            // An unknown sourcedId is not made up for by an email the LMS sends (users may edit it).
            let email = try #require(env.data.all(.users).first { $0["sourcedId"]?.stringValue == teacher }?["email"]?.stringValue)
            try await platform.next([
                "claims": [
                    "email": email, Self.claim + "lis": ["person_sourcedid": "unknown-person", "course_section_sourcedid": sections[0]]
                ]
            ])
            let byEmail = try await Self.launch(env, platform).page
            #expect(byEmail.status == 403 && byEmail.text.contains("not in the SIS roster"), "\(byEmail.text)")
            // The roster's administrator, launched as one.
            try await platform.next(administrator(admin))
            let (page, _) = try await Self.launch(env, platform)
            #expect(page.status == 200, "\(page.text)")
            let token = try #require(page.meta("passback-session"))
            let viewer = try await env.post("{ viewer { role org { sourcedId } } }", token: token)
            #expect(viewer["viewer", "role"] as? String == "ADMIN", "\(viewer.text)")
            #expect(viewer["viewer", "org", "sourcedId"] as? String == env.districtOrg, "\(viewer.text)")
        }
    }

    @Test("platforms in the configuration file (or its environment variables) are registered when the server starts; a bad one stops the start, naming its key")
    func platformsFromConfiguration() async throws {
        let path = FileManager.default.temporaryDirectory.appending(path: "passback-lti-config-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm", ".lti-keys.json"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try PassbackDatabase(path: path)
        try RosterStore(database).saveConnection(
            ConnectionSettings(id: "district", baseURL: URL(string: "https://sis.example.org/ims/oneroster/v1p1")!), at: Date())
        let environment = [
            "LTI_PLATFORM_IDS": "canvas", "LTI_PLATFORM_CANVAS_ISSUER": "https://canvas.instructure.com", "LTI_PLATFORM_CANVAS_CLIENT_ID": "10000000000042",
            "LTI_PLATFORM_CANVAS_DEPLOYMENT_IDS": "d-1, d-2", "LTI_PLATFORM_CANVAS_AUTH_URL": "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "LTI_PLATFORM_CANVAS_JWKS_URL": "https://sso.canvaslms.com/api/lti/security/jwks"
        ]
        let configuration = try await PassbackConfiguration.load(file: nil, environment: environment)
        #expect(configuration.ltiPlatforms.map(\.registration.deploymentIDs) == [["d-1", "d-2"]])
        _ = try Gateway(configuration, database: database, server: Gateway.Configuration(port: 0))
        let registered = try LTIStore(database).platforms()
        #expect(registered.map(\.issuer) == ["https://canvas.instructure.com"] && registered.first?.deploymentIDs == ["d-1", "d-2"])
        #expect(registered.first?.connectionID == "district")
        // A platform with a part missing, or one the store refuses, stops the start and names its key.
        do {
            _ = try await PassbackConfiguration.load(file: nil, environment: environment.filter { $0.key != "LTI_PLATFORM_CANVAS_JWKS_URL" })
            Issue.record("a platform without its JWKS URL was accepted")
        } catch let problem as PassbackConfiguration.Problem {
            #expect(problem.description.contains("lti.platform.canvas.jwksURL is missing (environment: LTI_PLATFORM_CANVAS_JWKS_URL)"), "\(problem)")
        }
        let noSuchOrg = try await PassbackConfiguration.load(file: nil, environment: environment.merging(["LTI_PLATFORM_CANVAS_ORG": "nowhere"]) { $1 })
        #expect {
            _ = try Gateway(noSuchOrg, database: database, server: Gateway.Configuration(port: 0))
        } throws: { error in
            "\(error)".contains("lti.platform.canvas: no org 'nowhere'")
        }
    }

    @Test("the tool's configuration and keys: config.json names the URLs; PyJWT verifies a token signed by the key /lti/jwks publishes")
    func configurationAndKeys() async throws {
        try await withGateway { env in
            let config = try await Self.get(env.base.absoluteString + "/lti/config.json")
            #expect(config.status == 200)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(config.text.utf8)) as? [String: Any])
            #expect(json["title"] as? String == "Passback")
            #expect(json["oidc_initiation_url"] as? String == env.base.absoluteString + "/lti/login")
            #expect(json["target_link_uri"] as? String == env.base.absoluteString + "/lti/launch")
            #expect(json["public_jwk_url"] as? String == env.base.absoluteString + "/lti/jwks")
            // A token signed with Passback's current key, checked by PyJWT against the served JWKS.
            let keys = try env.gateway.lti.keys()
            let signed = try JWT.sign(["iss": "passback", "n": 1], key: keys.current.privateKey, kid: keys.current.kid)
            let jwks = try await Self.get(env.base.absoluteString + "/lti/jwks").text
            let python = Process()
            python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            python.arguments = [
                "python3", "-c",
                "import sys, json, jwt; s = jwt.PyJWKSet.from_json(sys.argv[1]); h = jwt.get_unverified_header(sys.argv[2]); "
                    + "print(jwt.decode(sys.argv[2], s[h['kid']].key, algorithms=['RS256'])['iss'])",
                jwks, signed
            ]
            let out = Pipe()
            python.standardOutput = out
            try python.run()
            python.waitUntilExit()
            #expect(python.terminationStatus == 0)
            #expect(
                String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "passback")
            // Rotation keeps the previous key published.
            let path = env.gateway.lti.settings.keyFile
            let before = try LTIKeyFile.keyIDs(path: path)
            let after = try LTIKeyFile.rotate(path: path)
            #expect(after.count == 2 && after[1] == before[0] && after[0] != before[0])
            let served = try await Self.get(env.base.absoluteString + "/lti/jwks").text
            #expect(after.allSatisfy { served.contains($0) })
        }
    }
}

extension JWT {
    /// A token signed with RS256 under `kid` with Passback's own key, for PyJWT to check
    /// against the JWKS Passback serves (Passback itself never signs a JWT yet).
    static func sign(_ claims: [String: Any], key: _RSA.Signing.PrivateKey, kid: String) throws -> String {
        let header = try JSONSerialization.data(withJSONObject: ["alg": "RS256", "typ": "JWT", "kid": kid], options: [.sortedKeys])
        let payload = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        let input = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        let signature = try key.signature(for: SHA256.hash(data: Data(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + Base64URL.encode(signature.rawRepresentation)
    }
}
