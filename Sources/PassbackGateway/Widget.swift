import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The gradebook widget (`Clients/widget`), embedded at build time and served at `/widget/`:
/// static files, nothing loaded from elsewhere.
enum Widget {
    /// The widget's files, and `documents.json`: its GraphQL documents by name with their hashes
    /// (`PersistedDocuments.widgetManifest`), which it sends instead of their text.
    static let files: [String: String] = Dictionary(uniqueKeysWithValues: EmbeddedWidget.all.map { ($0.name, $0.text) })
        .merging(["documents.json": PersistedDocuments.widgetManifest]) { _, manifest in manifest }

    /// `frameAncestors`: who may frame the page (`LTILaunch.frameAncestors`).
    static func response(for name: String, frameAncestors: String = "'self'") -> Response {
        guard let text = files[name] else {
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .notFound, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "no such file in the widget\n")))
        }
        var headers = HTTPFields()
        headers[.contentType] = contentType(name)
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors \(frameAncestors)"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func contentType(_ name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "json": "application/json; charset=utf-8"
        default: "application/octet-stream"
        }
    }
}
