import CryptoExtras
import Foundation
import PassbackCore
import PassbackStore
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Passback as an LTI 1.3 tool: the OIDC third-party-initiated login, the launch it returns
/// with, and the session the launched page works with (IMS LTI 1.3 Core, IMS Security
/// Framework 1.0). The HTTP side is in `LTIRoutes`; this is what each step decides.
final class LTILaunch: Sendable {
    struct Settings: Sendable {
        /// Passback's key file (`lti.keyFile`); made on first use.
        var keyFile: String
        /// The URL the LMS reaches Passback at (`publicURL`); nil: the request's `Host`, over http.
        var publicURL: String?
        /// How long a login waits for its launch.
        var loginWindow: TimeInterval = 600
        /// Clock difference allowed between the platform and Passback (`exp`, `iat`).
        var skew: TimeInterval = 60
        /// A session's life without renewal, and the longest renewals may take it.
        var sessionLifetime: TimeInterval = 3600
        var sessionLimit: TimeInterval = 12 * 3600
        /// The shortest time between two fetches of a platform's keys for a `kid` it lacks.
        var refetchInterval: TimeInterval = 1
        /// How long a platform's fetched keys are trusted before they are fetched again.
        var keysLifetime: TimeInterval = 3600
    }

    let settings: Settings
    let store: LTIStore
    let tokens: TokenStore
    let lms: LMSStore
    let now: @Sendable () -> Date
    private let toolKeys = Mutex<(keys: ToolKeys, modified: Date?)?>(nil)
    /// The origins that may frame Passback's pages (`frameAncestors`), read at most every few seconds.
    private let framers = Mutex<(read: Date, origins: Set<String>)?>(nil)
    private let platformKeys = Mutex<[String: (keys: [String: _RSA.Signing.PublicKey], fetched: Date)]>([:])

    init(settings: Settings, database: PassbackDatabase, now: @escaping @Sendable () -> Date = Date.init) {
        self.settings = settings
        self.store = LTIStore(database)
        self.tokens = TokenStore(database)
        self.lms = LMSStore(database)
        self.now = now
    }

    /// A refusal: a page saying what went wrong and who must fix what.
    struct Refusal: Error, Sendable {
        var status: Int
        var title: String
        var detail: String
        /// What the LMS admin (or the teacher) must do.
        var fix: String
        /// For the server's log, not the page: the error behind a 503 (a database's text may
        /// quote its SQL).
        var cause: String? = nil

        /// The database failed: the page says so, the log says how.
        static func unavailable(_ title: String, fix: String, _ error: any Error) -> Refusal {
            Refusal(status: 503, title: title, detail: "Passback's database answered with an error; the server's log says which.", fix: fix, cause: "\(error)")
        }
    }

    // MARK: Framing

    /// The `frame-ancestors` of Passback's pages: itself, the registered platforms (their issuers
    /// and authorization URLs), the origins their launches came from, and `also` (the launch
    /// being answered). No one else may frame the widget (clickjacking).
    func frameAncestors(also: String? = nil) -> String {
        let at = now()
        var origins: Set<String>
        if let known = framers.withLock({ $0 }), at.timeIntervalSince(known.read) < 5 {
            origins = known.origins
        } else {
            origins = (try? store.frameOrigins()) ?? []
            framers.withLock { [origins] in $0 = (at, origins) }
        }
        if let also { origins.insert(also) }
        return (["'self'"] + origins.sorted()).joined(separator: " ")
    }

    // MARK: Keys

    /// Passback's keys, read again when `passback lti key rotate` has replaced the file.
    func keys() throws -> ToolKeys {
        let modified = (try? FileManager.default.attributesOfItem(atPath: settings.keyFile))?[.modificationDate] as? Date
        if let known = toolKeys.withLock({ $0 }), let modified, known.modified == modified { return known.keys }
        let keys = try ToolKeys.load(path: settings.keyFile, now: now())
        // A file made by this load is read again at the next use (it has no stamp yet here): once.
        toolKeys.withLock { $0 = (keys, modified) }
        return keys
    }

    /// The tool's configuration, as an LMS admin imports it (Canvas's JSON shape, whose fields
    /// other platforms' forms ask for by the same names).
    func configuration(base: String) throws -> Data {
        let object: [String: Any] = [
            "title": "Passback",
            "description": "Passes grades, statuses and comments from this course to the SIS (OneRoster 1.1).",
            "oidc_initiation_url": base + "/lti/login",
            "target_link_uri": base + "/lti/launch",
            "public_jwk_url": base + "/lti/jwks",
            "scopes": [String](),
            "extensions": [
                [
                    "platform": "canvas.instructure.com",
                    "privacy_level": "public",
                    "settings": [
                        "placements": [
                            ["placement": "course_navigation", "message_type": "LtiResourceLinkRequest", "target_link_uri": base + "/lti/launch"]
                        ]
                    ]
                ]
            ],
            "custom_fields": [String: String]()
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    // MARK: Login

    /// The OIDC login the platform starts: the authentication request to send the browser to.
    func login(_ p: [String: String], base: String) throws(Refusal) -> URL {
        guard let issuer = p["iss"], !issuer.isEmpty else {
            throw Refusal(
                status: 400, title: "The LMS did not say who it is", detail: "The login request has no iss parameter.",
                fix: "Point the LMS's OIDC login (initiation) URL at \(base)/lti/login; the LMS adds iss, login_hint and target_link_uri itself.")
        }
        guard let loginHint = p["login_hint"], !loginHint.isEmpty else {
            throw Refusal(
                status: 400, title: "The LMS sent no login_hint", detail: "The login request from \(issuer) has no login_hint.",
                fix: "This is the LMS's part of LTI 1.3: check its LTI 1.3 support.")
        }
        let registered: [LTIStore.Platform]
        do { registered = try store.platforms(issuer: issuer) } catch {
            throw Refusal.unavailable("Passback could not read its registrations", fix: "Try again in a moment.", error)
        }
        let candidates = p["client_id"].map { id in registered.filter { $0.clientID == id } } ?? registered
        guard let platform = candidates.first, candidates.count == 1 else {
            if registered.isEmpty {
                throw Refusal(
                    status: 403, title: "This LMS is not registered with Passback", detail: "No platform with issuer \(issuer) is registered.",
                    fix:
                        "An admin registers it on the Passback server: passback lti platform add --issuer \(issuer) --client-id … --deployment-id … --auth-url … --jwks-url …"
                )
            }
            if candidates.isEmpty {
                throw Refusal(
                    status: 403, title: "This LMS client is not registered with Passback",
                    detail: "\(issuer) is registered, but not with client id \(p["client_id"] ?? "")",
                    fix: "Register that client id: passback lti platform add --issuer \(issuer) --client-id \(p["client_id"] ?? "") …")
            }
            throw Refusal(
                status: 400, title: "Passback cannot tell which registration this is",
                detail: "\(issuer) is registered with several client ids and the login request names none.",
                fix: "Have the LMS send client_id with its login request, or keep one registration for this issuer.")
        }
        if let deployment = p["lti_deployment_id"], !platform.deploymentIDs.contains(deployment) {
            throw unknownDeployment(deployment, platform)
        }
        guard let auth = URL(string: platform.authURL), var request = URLComponents(url: auth, resolvingAgainstBaseURL: false) else {
            throw Refusal(
                status: 500, title: "The registration's auth URL is not a URL", detail: platform.authURL,
                fix: "Register the platform again with its OIDC authorization URL.")
        }
        let state = Self.random(), nonce = Self.random()
        let started: Bool
        do { started = try store.startLogin(platform: platform.id, state: state, nonce: nonce, at: now(), window: settings.loginWindow) } catch {
            throw Refusal.unavailable("Passback could not start the login", fix: "Try again in a moment.", error)
        }
        guard started else {
            throw Refusal(
                status: 503, title: "Too many logins are waiting", detail: "Passback holds as many unfinished logins as it keeps at once.",
                fix: "Try again in a few minutes; unfinished logins expire after \(Int(settings.loginWindow / 60)) minutes.")
        }
        var items = request.queryItems ?? []
        items += [
            URLQueryItem(name: "scope", value: "openid"), URLQueryItem(name: "response_type", value: "id_token"),
            URLQueryItem(name: "response_mode", value: "form_post"), URLQueryItem(name: "prompt", value: "none"),
            URLQueryItem(name: "client_id", value: platform.clientID), URLQueryItem(name: "redirect_uri", value: base + "/lti/launch"),
            URLQueryItem(name: "login_hint", value: loginHint), URLQueryItem(name: "state", value: state), URLQueryItem(name: "nonce", value: nonce)
        ]
        if let hint = p["lti_message_hint"] { items.append(URLQueryItem(name: "lti_message_hint", value: hint)) }
        request.queryItems = items
        guard let url = request.url else {
            throw Refusal(
                status: 500, title: "Passback could not build the login redirect", detail: platform.authURL, fix: "Check the registration's auth URL.")
        }
        return url
    }

    func unknownDeployment(_ deployment: String, _ platform: LTIStore.Platform) -> Refusal {
        Refusal(
            status: 403, title: "This deployment of Passback is not registered",
            detail: "\(platform.issuer) launched deployment \(deployment), which is not registered with Passback.",
            fix: "Add it: passback lti platform add --issuer \(platform.issuer) --client-id \(platform.clientID) --deployment-id \(deployment) …")
    }

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    // MARK: Launch

    /// Who a verified launch acts as, and the session made for it.
    struct Launched: Sendable {
        var token: String
        var role: Principal.Role
        var user: String
        var name: String
        /// The SIS sections the launch opens (sourcedIds), for a teacher.
        var sections: [String]
        var expires: Date
        var frameOrigin: String?
    }

    static let claim = "https://purl.imsglobal.org/spec/lti/claim/"
    static let instructor = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    static let administrators: Set<String> = [
        // Institution and system roles only: a course's own Administrator role, which some LMSs let
        // teachers give, must not make anyone an org-wide admin.
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
        "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
    ]

    /// What a verified launch leads to: the page signed in, or first the user's approval.
    enum Outcome: Sendable {
        case launched(Launched)
        case approval(Approval)
    }

    /// A launch waiting for its user's approval (their first): what the page shows and the
    /// one-use ticket its form carries.
    struct Approval: Sendable {
        var ticket: String
        var name: String
        var role: Principal.Role
        var sections: [String]
        /// The SIS Passback writes to.
        var sis: String
    }

    /// Who a verified launch is, before anything is written for it; kept while approval waits.
    struct Resolved: Codable, Sendable {
        var platform: Int64
        /// The origin the launch was posted from (the LMS's page), which may frame the session's pages.
        var frameOrigin: String?
        var connection: String
        var issuer: String
        var user: String
        var name: String
        var admin: Bool
        var org: String?
        var sections: [String]
        /// The sections as the approval page names them: title and sourcedId.
        var sectionNames: [String] = []
        var course: String?
        var courseTitle: String?
    }

    /// The launch the platform form-posts back: its login taken, its id_token verified, its user
    /// and sections found in the roster; then, once the user has approved Passback, its course
    /// linked and a session made.
    func launch(idToken: String?, state: String?, origin: String? = nil) async throws(Refusal) -> Outcome {
        guard let state, let idToken else {
            throw Refusal(
                status: 400, title: "The launch is incomplete", detail: "The LMS's launch carried no \(state == nil ? "state" : "id_token").",
                fix: "Launch Passback from the LMS's course link; its launch URL is only for the LMS to post to.")
        }
        let at = now()
        let login: (nonce: String, platform: Int64)?
        do { login = try store.takeLogin(state: state, at: at, window: settings.loginWindow) } catch {
            throw Refusal.unavailable("Passback could not read the login", fix: "Launch again in a moment.", error)
        }
        guard let login, let platform = try? store.platform(id: login.platform) else {
            throw Refusal(
                status: 401, title: "This launch has expired or was already used",
                detail: "Its state is unknown to Passback: used once already, older than \(Int(settings.loginWindow / 60)) minutes, or never given.",
                fix: "Open Passback again from the course link.")
        }
        let token: JWT
        do { token = try JWT(compact: idToken) } catch {
            throw Refusal(
                status: 400, title: "The launch's id_token cannot be read", detail: "\(error)",
                fix: "This is the LMS's part of LTI 1.3: check its LTI 1.3 support.")
        }
        guard token.algorithm == "RS256" else {
            throw Refusal(
                status: 401, title: "The launch is signed with an algorithm LTI does not allow",
                detail: "Its id_token names \(token.algorithm ?? "no algorithm"); LTI 1.3 launches are signed with RS256.",
                fix: "Check the LMS's LTI 1.3 key settings.")
        }
        let key = try await platformKey(platform, kid: token.keyID)
        guard token.isSigned(by: key) else {
            throw Refusal(
                status: 401, title: "The launch's signature does not verify",
                detail: "The id_token is not signed by the key \(token.keyID ?? "(no kid)") that \(platform.jwksURL) publishes.",
                fix: "Check that the registration's JWKS URL is the LMS's (passback lti platform list).")
        }
        let claims = token.claims
        try check(claims, platform: platform, nonce: login.nonce, at: at)
        var resolved = try resolve(claims, platform: platform)
        resolved.frameOrigin = origin.flatMap(LTIStore.origin)
        let approved: Bool
        do { approved = try store.approved(connection: resolved.connection, user: resolved.user) } catch {
            throw Refusal.unavailable("Passback could not read the roster", fix: "Try again in a moment.", error)
        }
        if approved { return .launched(try finish(resolved, at: at)) }
        let ticket = Self.random()
        do {
            try store.holdLaunch(ticket: ticket, launch: try JSONEncoder().encode(resolved), at: at, window: settings.loginWindow)
            let sis = try store.sisAddress(connection: resolved.connection) ?? resolved.connection
            return .approval(Approval(ticket: ticket, name: resolved.name, role: resolved.admin ? .admin : .teacher, sections: resolved.sectionNames, sis: sis))
        } catch {
            throw Refusal.unavailable("Passback could not keep the launch", fix: "Open Passback again from the course link.", error)
        }
    }

    /// The user's answer on the approval page: their launch, taken once, signed in when they
    /// approve (remembered: later launches go straight in).
    func approve(ticket: String?, approved: Bool) throws(Refusal) -> Launched {
        let at = now()
        let held: Data?
        do { held = try ticket.flatMap { try store.takeLaunch(ticket: $0, at: at, window: settings.loginWindow) } } catch {
            throw Refusal.unavailable("Passback could not read the launch", fix: "Open Passback again from the course link.", error)
        }
        guard let held, let resolved = try? JSONDecoder().decode(Resolved.self, from: held) else {
            throw Refusal(
                status: 401, title: "This approval has expired or was already given",
                detail: "Its launch is unknown to Passback: answered once already, or older than \(Int(settings.loginWindow / 60)) minutes.",
                fix: "Open Passback again from the course link.")
        }
        guard approved else {
            throw Refusal(
                status: 403, title: "Passback was not approved", detail: "Nothing was sent to the SIS and no session was made.",
                fix: "Open Passback again from the course link when you want to approve it.")
        }
        do { try store.approve(connection: resolved.connection, user: resolved.user, at: at) } catch {
            throw Refusal.unavailable("Passback could not record the approval", fix: "Open Passback again from the course link.", error)
        }
        return try finish(resolved, at: at)
    }

    /// The platform's key `kid`: from the keys fetched before (for at most `keysLifetime`: a key
    /// the platform withdraws is not trusted for long), or fetched again when it is unknown (a
    /// platform rotating its keys). A URL is fetched at most every `refetchInterval`, failed
    /// fetches included, so forged launches cannot make Passback hammer the platform.
    func platformKey(_ platform: LTIStore.Platform, kid: String?) async throws(Refusal) -> _RSA.Signing.PublicKey {
        let url = platform.jwksURL
        let at = now()
        let cached = platformKeys.withLock { $0[url] }
        func pick(_ keys: [String: _RSA.Signing.PublicKey]) -> _RSA.Signing.PublicKey? {
            if let kid { return keys[kid] }
            return keys.count == 1 ? keys.values.first : nil
        }
        if let cached, at.timeIntervalSince(cached.fetched) < settings.keysLifetime, let key = pick(cached.keys) { return key }
        if let cached, at.timeIntervalSince(cached.fetched) < settings.refetchInterval {
            throw noKey(platform, kid: kid, in: cached.keys)
        }
        // Marked fetched now, before the fetch: concurrent launches wait for the next interval.
        platformKeys.withLock { $0[url] = (cached?.keys ?? [:], at) }
        let keys: [String: _RSA.Signing.PublicKey]
        do {
            guard let address = URL(string: url) else { throw JWT.Malformed(description: "not a URL") }
            var request = URLRequest(url: address, timeoutInterval: 10)
            request.setValue("application/json", forHTTPHeaderField: "Accept")
            let (data, response) = try await URLSession.shared.data(for: request)
            guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
                throw JWT.Malformed(description: "it answered HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)")
            }
            guard data.count <= 256 * 1024 else { throw JWT.Malformed(description: "its JWKS is larger than 256 KiB") }
            keys = try JWKS.rsaKeys(data)
        } catch {
            throw Refusal(
                status: 502, title: "Passback could not fetch the LMS's keys", detail: "\(url): \(error)",
                fix: "Check the registration's JWKS URL (passback lti platform list) and that the Passback server can reach it.")
        }
        platformKeys.withLock { $0[url] = (keys, now()) }
        guard let key = pick(keys) else { throw noKey(platform, kid: kid, in: keys) }
        return key
    }

    func noKey(_ platform: LTIStore.Platform, kid: String?, in keys: [String: _RSA.Signing.PublicKey]) -> Refusal {
        Refusal(
            status: 401, title: "The launch is signed with a key the LMS does not publish",
            detail:
                "\(platform.jwksURL) has no RSA key \(kid.map { "'\($0)'" } ?? "to choose without a kid") (it has: \(keys.keys.sorted().joined(separator: ", "))).",
            fix: "Check that the registration's JWKS URL is the LMS's own (passback lti platform list).")
    }

    /// The id_token's claims, as IMS Security Framework §5.1.3 and LTI 1.3 §5.3 ask.
    func check(_ claims: [String: Any], platform: LTIStore.Platform, nonce: String, at now: Date) throws(Refusal) {
        func refuse(_ title: String, _ detail: String, _ fix: String) -> Refusal { Refusal(status: 401, title: title, detail: detail, fix: fix) }
        guard claims["iss"] as? String == platform.issuer else {
            throw refuse(
                "The launch comes from another issuer", "Its iss is \(claims["iss"] as? String ?? "missing"), its login was \(platform.issuer)'s.",
                "Launch again from the course link.")
        }
        let audiences = (claims["aud"] as? String).map { [$0] } ?? (claims["aud"] as? [String]) ?? []
        guard audiences.contains(platform.clientID) else {
            throw refuse(
                "The launch is meant for another tool", "Its audience is \(audiences.joined(separator: ", ")), Passback's client id is \(platform.clientID).",
                "Register the client id the LMS gave Passback: passback lti platform add --issuer \(platform.issuer) --client-id …")
        }
        if let azp = claims["azp"], azp as? String != platform.clientID {
            throw refuse(
                "The launch is meant for another tool", "Its azp is \(azp), Passback's client id is \(platform.clientID).",
                "Check the registration's client id.")
        }
        if audiences.count > 1, claims["azp"] == nil {
            throw refuse(
                "The launch names several audiences and no azp", "Audiences: \(audiences.joined(separator: ", ")).", "This is the LMS's part of LTI 1.3.")
        }
        guard let exp = (claims["exp"] as? NSNumber)?.doubleValue, let iat = (claims["iat"] as? NSNumber)?.doubleValue else {
            throw refuse("The launch has no time limits", "Its id_token lacks exp or iat.", "This is the LMS's part of LTI 1.3.")
        }
        let t = now.timeIntervalSince1970
        guard t <= exp + settings.skew else {
            throw refuse(
                "The launch has expired", "Its id_token expired \(Int(t - exp)) seconds ago.",
                "Open Passback again from the course link. If this repeats, the LMS's or Passback's clock is wrong.")
        }
        guard iat <= t + settings.skew else {
            throw refuse(
                "The launch is dated in the future", "Its id_token was issued \(Int(iat - t)) seconds from now.",
                "Check the clocks of the LMS and the Passback server.")
        }
        guard claims["nonce"] as? String == nonce else {
            throw refuse(
                "The launch does not belong to its login", "Its nonce is not the one Passback gave this login.", "Open Passback again from the course link.")
        }
        let deployment = claims[Self.claim + "deployment_id"] as? String ?? ""
        guard platform.deploymentIDs.contains(deployment) else { throw unknownDeployment(deployment, platform) }
        guard claims[Self.claim + "message_type"] as? String == "LtiResourceLinkRequest" else {
            throw Refusal(
                status: 400, title: "Passback opens from a course link only",
                detail: "The LMS sent a \(claims[Self.claim + "message_type"] as? String ?? "message without a type"), not a resource link launch.",
                fix: "Add Passback to the course navigation (or as a link), not as a deep-linking or other placement.")
        }
        guard claims[Self.claim + "version"] as? String == "1.3.0" else {
            throw Refusal(
                status: 400, title: "The launch is not LTI 1.3.0", detail: "Its version is \(claims[Self.claim + "version"] as? String ?? "missing").",
                fix: "Install Passback as an LTI 1.3 tool.")
        }
    }

    /// The roster's user and, for a teacher, the sections they teach and the LMS course; nothing
    /// is written.
    func resolve(_ claims: [String: Any], platform: LTIStore.Platform) throws(Refusal) -> Resolved {
        let roles = Set(claims[Self.claim + "roles"] as? [String] ?? [])
        let lis = claims[Self.claim + "lis"] as? [String: Any] ?? [:]
        let context = claims[Self.claim + "context"] as? [String: Any] ?? [:]
        let sourcedId = lis["person_sourcedid"] as? String
        let email = claims["email"] as? String
        let isInstructor = roles.contains(Self.instructor)
        let isAdministrator = !roles.isDisjoint(with: Self.administrators)
        guard isInstructor || isAdministrator else {
            throw Refusal(
                status: 403, title: "Passback is for the course's instructors and administrators",
                detail:
                    "Your roles in this launch: \(roles.isEmpty ? "none" : roles.map { $0.split(separator: "#").last.map(String.init) ?? $0 }.sorted().joined(separator: ", ")).",
                fix: "Ask the course's teacher; students never need Passback.")
        }
        let person: LTIStore.Person?
        // The email (which many LMSs let users edit) is used only when the LMS sends no sourcedId.
        do { person = try store.person(connection: platform.connectionID, sourcedId: sourcedId, email: sourcedId == nil ? email : nil) } catch {
            throw Refusal.unavailable("Passback could not read the roster", fix: "Try again in a moment.", error)
        }
        guard let person, person.active else {
            throw Refusal(
                status: 403, title: "You are not in the SIS roster Passback holds",
                detail:
                    "The LMS sent person_sourcedid \(sourcedId.map { "'\($0)'" } ?? "(none)")\(email.map { " and email \($0)" } ?? ""); no active user of \(platform.connectionID) has it.",
                fix:
                    "The LMS must send the SIS's sourcedId as lis.person_sourcedid (in Canvas: the SIS user id). If you were added recently, the next roster pull brings you in."
            )
        }
        let name = "\(person.givenName) \(person.familyName)"
        let sections = (lis["course_section_sourcedid"] as? String ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        var admin = true
        var course: (id: String, title: String)?
        var sectionNames: [String] = []
        if isInstructor, !sections.isEmpty {
            let classes: (found: [String: String], taught: Set<String>)
            do { classes = try store.classes(connection: platform.connectionID, sourcedIds: sections, teacher: person.sourcedId) } catch {
                throw Refusal.unavailable("Passback could not read the roster", fix: "Try again in a moment.", error)
            }
            if let missing = sections.first(where: { classes.found[$0] == nil }) {
                throw Refusal(
                    status: 403, title: "This course's section is not in the SIS roster",
                    detail: "The LMS names SIS section '\(missing)'; \(platform.connectionID)'s roster has no active section with that sourcedId.",
                    fix: "The LMS must send the SIS section's sourcedId as lis.course_section_sourcedid (in Canvas: the section's SIS id).")
            }
            sectionNames = sections.map { "\(classes.found[$0] ?? $0) (\($0))" }
            let untaught = sections.filter { !classes.taught.contains($0) }
            if !untaught.isEmpty, !isAdministrator {
                throw Refusal(
                    status: 403, title: "The roster does not list you as this section's teacher",
                    detail: "\(name) (\(person.sourcedId)) has no active teacher enrollment in \(untaught.joined(separator: ", ")).",
                    fix: "The SIS decides who teaches a section; once it lists you, the next roster pull lets you in.")
            }
            if untaught.isEmpty {
                admin = false
                guard let courseID = context["id"] as? String, !courseID.isEmpty else {
                    throw Refusal(
                        status: 400, title: "The launch names no course", detail: "It has no context claim with an id.",
                        fix: "Launch Passback from within a course.")
                }
                course = (courseID, context["title"] as? String ?? courseID)
            }
        } else if isInstructor, !isAdministrator {
            throw Refusal(
                status: 400, title: "The launch names no SIS section", detail: "It has no lis.course_section_sourcedid.",
                fix: "The LMS must send the SIS sections of the course (in Canvas: give the course's sections their SIS ids).")
        }
        if admin, person.role != "administrator" {
            throw Refusal(
                status: 403, title: "The SIS does not list you as an administrator",
                detail: "The LMS launched \(name) (\(person.sourcedId)) as an Administrator; the SIS roster lists them as \(person.role).",
                fix: "An admin's launch acts on the whole org, so the SIS must list the user as an administrator; teachers launch from their courses.")
        }
        if admin, platform.orgSourcedId == nil {
            throw Refusal(
                status: 403, title: "Administrator launches are not set up",
                detail: "The registration of \(platform.issuer) names no org for an Administrator to act on.",
                fix: "passback lti platform add --issuer \(platform.issuer) --client-id \(platform.clientID) --org <district or school sourcedId> …")
        }
        return Resolved(
            platform: platform.id, connection: platform.connectionID, issuer: platform.issuer, user: person.sourcedId, name: name, admin: admin,
            org: admin ? platform.orgSourcedId : nil, sections: admin ? [] : sections, sectionNames: admin ? [] : sectionNames, course: course?.id,
            courseTitle: course?.title)
    }

    /// A resolved launch, approved: a teacher's LMS course linked to their sections, and the session.
    func finish(_ r: Resolved, at now: Date) throws(Refusal) -> Launched {
        if let course = r.course {
            do {
                try lms.upsertCourse(connection: r.connection, lmsID: course, title: r.courseTitle ?? course, sectionSourcedIds: r.sections, at: now)
            } catch let conflict as LMSStore.LinkConflict {
                throw Refusal(
                    status: 409, title: "This section belongs to another LMS course", detail: conflict.description,
                    fix: "A section is linked to one LMS course. Launch Passback from that course, or unlink the section there first.")
            } catch {
                throw Refusal.unavailable("Passback could not link this course's sections", fix: "Try again in a moment.", error)
            }
        }
        if let origin = r.frameOrigin, (try? store.rememberFrameOrigin(platform: r.platform, origin: origin, at: now)) != nil {
            framers.withLock { $0 = nil }
        }
        let role: Principal.Role = r.admin ? .admin : .teacher
        let expires = now.addingTimeInterval(settings.sessionLifetime)
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        do {
            let made = try tokens.create(
                connection: r.connection, user: r.user, role: role, org: r.org, expiresAt: expires, label: "LTI launch from \(r.issuer)", randomBytes: bytes,
                at: now, renewUntil: now.addingTimeInterval(settings.sessionLimit))
            return Launched(
                token: made.token, role: role, user: r.user, name: r.name, sections: r.sections, expires: expires, frameOrigin: r.frameOrigin)
        } catch let refusal as TokenStore.Refusal {
            throw Refusal(status: 403, title: "Passback cannot make your session", detail: refusal.description, fix: "Ask the Passback admin.")
        } catch {
            throw Refusal.unavailable("Passback could not make your session", fix: "Try again in a moment.", error)
        }
    }
}
