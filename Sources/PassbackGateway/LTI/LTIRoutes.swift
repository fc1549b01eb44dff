import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PassbackCore
import PassbackStore

/// The LTI 1.3 tool's HTTP side: `/lti/config.json` (what an LMS admin imports), `/lti/jwks`
/// (Passback's public keys), `/lti/login` (the OIDC login the LMS starts, GET or POST),
/// `/lti/launch` (the id_token it posts back: the widget, signed in, or at a user's first launch
/// the approval page), `/lti/approve` (that page's answer) and `/lti/session` (the launched page
/// renews its session).
extension Gateway {
    func addLTIRoutes(to router: Router<GatewayRequestContext>) {
        let lti = self.lti
        let logger = self.logger
        // A refusal's page, with its cause (a database error) in the log rather than on the page.
        let refused: @Sendable (LTILaunch.Refusal, String) -> Response = { refusal, frameAncestors in
            if let cause = refusal.cause { logger.error("LTI: \(refusal.title): \(cause)") }
            return Self.refusalPage(refusal, frameAncestors: frameAncestors)
        }
        router.get("/lti/config.json") { request, _ -> Response in
            do { return Self.bytes(.ok, try lti.configuration(base: lti.base(request)), type: "application/json") } catch {
                return Self.text(.internalServerError, "the LTI key file cannot be used: \(error)\n", type: "text/plain; charset=utf-8")
            }
        }
        router.get("/lti/jwks") { _, _ -> Response in
            do { return Self.bytes(.ok, try lti.keys().jwks(), type: "application/json") } catch {
                return Self.text(.internalServerError, "the LTI key file cannot be used: \(error)\n", type: "text/plain; charset=utf-8")
            }
        }
        let login: @Sendable (Request, GatewayRequestContext) async throws -> Response = { request, _ in
            var parameters = Self.formItems(request.uri.query ?? "")
            if request.method == .post {
                let body = try await request.body.collect(upTo: 64 * 1024)
                parameters.merge(Self.formItems(String(buffer: body))) { _, posted in posted }
            }
            do throws(LTILaunch.Refusal) {
                let url = try lti.login(parameters, base: lti.base(request))
                var headers = HTTPFields()
                headers[.location] = url.absoluteString
                headers[.cacheControl] = "no-store"
                return Response(status: .found, headers: headers)
            } catch { return refused(error, lti.frameAncestors()) }
        }
        router.get("/lti/login", use: login)
        router.post("/lti/login", use: login)
        router.post("/lti/launch") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let form = Self.formItems(String(buffer: body))
            do throws(LTILaunch.Refusal) {
                let origin = request.headers[.origin]
                switch try await lti.launch(idToken: form["id_token"], state: form["state"], origin: origin) {
                case .launched(let launched): return Self.launchedPage(launched, frameAncestors: lti.frameAncestors(also: launched.frameOrigin))
                case .approval(let approval):
                    return Self.approvalPage(approval, frameAncestors: lti.frameAncestors(also: origin.flatMap(LTIStore.origin)))
                }
            } catch { return refused(error, lti.frameAncestors(also: request.headers[.origin].flatMap(LTIStore.origin))) }
        }
        router.post("/lti/approve") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let form = Self.formItems(String(buffer: body))
            do throws(LTILaunch.Refusal) {
                let launched = try lti.approve(ticket: form["ticket"], approved: form["decision"] == "approve")
                return Self.launchedPage(launched, frameAncestors: lti.frameAncestors(also: launched.frameOrigin))
            } catch { return refused(error, lti.frameAncestors()) }
        }
        router.post("/lti/session") { request, _ -> Response in
            guard let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") else {
                return Self.text(.unauthorized, "{\"error\":\"send the session: Authorization: Bearer <token>\"}", type: "application/json")
            }
            let token = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
            guard let expires = try lti.tokens.renew(token, lifetime: lti.settings.sessionLifetime, at: lti.now()) else {
                return Self.text(
                    .unauthorized, "{\"error\":\"this session has ended (or is not a launch's); open Passback again from the course link\"}",
                    type: "application/json")
            }
            return Self.text(.ok, "{\"expiresAt\":\"\(Timestamp.text(expires))\"}", type: "application/json")
        }
    }

    static func bytes(_ status: HTTPResponse.Status, _ data: Data, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func html(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A refused login or launch: what happened and what to fix, for the person in the LMS frame.
    static func refusalPage(_ refusal: LTILaunch.Refusal, frameAncestors: String) -> Response {
        let page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Passback: \(html(refusal.title))</title><link rel="stylesheet" href="/widget/widget.css"></head>
            <body><main class="refusal" role="alert">
            <h1>\(html(refusal.title))</h1>
            <p class="detail">\(html(refusal.detail))</p>
            <p class="fix"><strong>To fix:</strong> \(html(refusal.fix))</p>
            </main></body></html>
            """
        var response = text(HTTPResponse.Status(code: refusal.status), page, type: "text/html; charset=utf-8")
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'self'; frame-ancestors \(frameAncestors)"
        return response
    }

    /// A user's first launch: what Passback will do, and to which SIS, to approve or not.
    static func approvalPage(_ a: LTILaunch.Approval, frameAncestors: String) -> Response {
        let what =
            a.role == .teacher
            ? "For the sections \(html(a.sections.joined(separator: ", "))), Passback will read your roster from the SIS and, when you sync, write the graded items you choose, their students' scores, score statuses and comments to it."
            : "Passback will let you read sync errors, runs and statuses across your organization. It sends nothing to the SIS on your behalf."
        let page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Passback: approve</title><link rel="stylesheet" href="/widget/widget.css"></head>
            <body><main class="approval">
            <h1>Allow Passback for \(html(a.name))?</h1>
            <p>Passback keeps your LMS gradebook and the SIS in step. \(what)</p>
            <p>The SIS: <strong>\(html(a.sis))</strong></p>
            <p>You are asked once; your answer is remembered.</p>
            <form method="post" action="/lti/approve">
            <input type="hidden" name="ticket" value="\(html(a.ticket))">
            <button type="submit" name="decision" value="approve" class="primary" id="approve">Allow</button>
            <button type="submit" name="decision" value="decline" id="decline">Not now</button>
            </form>
            </main></body></html>
            """
        var response = text(.ok, page, type: "text/html; charset=utf-8")
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'self'; form-action 'self'; frame-ancestors \(frameAncestors)"
        return response
    }

    /// The widget, signed in: its page with the session and the launched sections in `meta`
    /// elements the widget reads once and removes (the session is never in a URL).
    static func launchedPage(_ launched: LTILaunch.Launched, frameAncestors: String) -> Response {
        let meta = """
            <meta name="passback-session" content="\(html(launched.token))">
            <meta name="passback-session-expires" content="\(Timestamp.text(launched.expires))">
            <meta name="passback-sections" content="\(html(launched.sections.joined(separator: ",")))">
            """
        let index = Widget.files["index.html"] ?? ""
        let page = index.replacingOccurrences(of: "<head>", with: "<head>\n" + meta, options: [], range: index.range(of: "<head>"))
        var response = Widget.response(for: "index.html", frameAncestors: frameAncestors)
        response.body = .init(byteBuffer: ByteBuffer(string: page))
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

extension LTILaunch {
    /// The URL the LMS reaches Passback at: `publicURL`, or the request's host over http (a
    /// server behind a TLS proxy sets `publicURL`).
    func base(_ request: Request) -> String {
        if let url = settings.publicURL { return url.hasSuffix("/") ? String(url.dropLast()) : url }
        return "http://" + (request.head.authority ?? "127.0.0.1")
    }
}
