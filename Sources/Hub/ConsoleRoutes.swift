import Foundation
import HTTP

/// `/console/`: the district console, plain HTML, CSS and JavaScript modules shipped with the hub
/// (Sources/Hub/Resources/console, guide in docs/console.md). The console is an API client like
/// any other: it signs in with an admin token and calls the documented `/v1` API; these routes
/// only hand out its files, with headers that forbid inline script, framing and referrers.
struct ConsoleRoutes {
    /// One file of the console, read once at start-up.
    struct File: Sendable {
        let bytes: [UInt8]
        let contentType: String
    }

    let files: [String: File]

    /// The policy every console response carries: scripts, styles and API calls from the hub only,
    /// no inline script or style attribute, no plug-ins, no framing, no form posts elsewhere.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static let securityHeaders = [
        HTTPHeader("Content-Security-Policy", contentSecurityPolicy),
        HTTPHeader("X-Frame-Options", "DENY"),
        HTTPHeader("Referrer-Policy", "no-referrer"),
        HTTPHeader("X-Content-Type-Options", "nosniff"),
        HTTPHeader("Cache-Control", "no-cache"),
    ]

    func register(on router: Router) {
        router.add(.GET, "/console") { request in
            // /console and /console/ are one route; relative module URLs need the slash.
            guard request.path.hasSuffix("/") else {
                return Self.secured(Response(status: 308, headers: [HTTPHeader("Location", "/console/")]))
            }
            return try file("index.html")
        }
        router.add(.GET, "/console/{file}") { request in
            try file(request.pathParameters["file"] ?? "")
        }
    }

    private func file(_ name: String) throws -> Response {
        guard let file = files[name] else { throw HTTPError.notFound("no console file '\(name)'") }
        return Self.secured(Response.bytes(file.bytes, contentType: file.contentType))
    }

    static func secured(_ response: Response) -> Response {
        var response = response
        response.headers.append(contentsOf: securityHeaders)
        return response
    }

    /// The console's files from the hub's resource bundle (a flat folder; names are the URLs).
    static func bundled() -> ConsoleRoutes {
        guard let folder = Bundle.module.url(forResource: "console", withExtension: nil) else { return ConsoleRoutes(files: [:]) }
        return load(folder: folder.path)
    }

    static func load(folder: String) -> ConsoleRoutes {
        var files: [String: File] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard let type = contentType(of: name), let data = FileManager.default.contents(atPath: folder + "/" + name) else { continue }
            files[name] = File(bytes: Array(data), contentType: type)
        }
        return ConsoleRoutes(files: files)
    }

    /// The content type by extension; other files are not served.
    static func contentType(of name: String) -> String? {
        switch (name as NSString).pathExtension {
        case "html": return "text/html; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        default: return nil
        }
    }
}
