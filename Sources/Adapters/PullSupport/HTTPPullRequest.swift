import Foundation
import HTTPClient
import JSON5

/// How an HTTP pull kind (http-json, soap-xml) proves who it is to the department's system.
enum HTTPPullAuthentication: Sendable {
    case none
    /// `Authorization: Bearer <token>`.
    case bearer(SecretReference)
    /// HTTP basic authentication; the user name is not a secret, the password is.
    case basic(user: String, password: SecretReference)
    /// Mutual TLS with a PEM certificate and key (paths relative to the declaration's folder).
    case clientCertificate(certificate: String, key: String)

    static let settingKeys: Set<String> = ["bearer", "basic", "clientCertificate"]

    /// Reads `pull.auth`: `{ bearer: {env}}`, `{ basic: { user, password: {env} } }` or
    /// `{ clientCertificate: { certificate, key } }`.
    static func read(_ settings: inout PullSettingsReader) -> HTTPPullAuthentication {
        guard let node = settings.root["auth"], !node.isNull else { return .none }
        let path = settings.path("auth")
        guard let members = node.members, members.count == 1, let member = members.first else {
            settings.problem(node, path, "must be one of { bearer: {...} }, { basic: {...} }, { clientCertificate: {...} }")
            return .none
        }
        let memberPath = "\(path).\(member.key)"
        switch member.key {
        case "bearer":
            return settings.secret(member.value, path: memberPath).map { .bearer($0) } ?? .none
        case "basic":
            let user = member.value["user"]?.stringValue
            if user?.isEmpty ?? true { settings.problem(member.value, "\(memberPath).user", "missing (a non-empty string)") }
            let password = settings.secret(member.value["password"], path: "\(memberPath).password")
            guard let user, !user.isEmpty, let password else { return .none }
            return .basic(user: user, password: password)
        case "clientCertificate":
            let certificate = member.value["certificate"]?.stringValue
            let key = member.value["key"]?.stringValue
            if certificate?.isEmpty ?? true { settings.problem(member.value, "\(memberPath).certificate", "missing (a PEM file path)") }
            if key?.isEmpty ?? true { settings.problem(member.value, "\(memberPath).key", "missing (a PEM file path)") }
            guard let certificate, let key, !certificate.isEmpty, !key.isEmpty else { return .none }
            return .clientCertificate(certificate: certificate, key: key)
        default:
            settings.problem(node, memberPath, "unknown authentication (bearer, basic or clientCertificate)")
            return .none
        }
    }

    /// Adds the credentials to `request`, resolving secrets now (so a rotated secret is picked up).
    func apply(to request: inout HTTPClientRequest, context: PullContext) throws(PullFailure) {
        switch self {
        case .none: break
        case .bearer(let reference):
            let token = try context.secret(reference, for: "pull.auth.bearer")
            request.headers.append(("Authorization", "Bearer " + token))
        case .basic(let user, let reference):
            let password = try context.secret(reference, for: "pull.auth.basic.password")
            request.basicAuthentication = (user, password)
        case .clientCertificate(let certificate, let key):
            request.clientCertificate = (resolvePath(certificate, base: context.baseDirectory), resolvePath(key, base: context.baseDirectory))
        }
    }
}

/// Common HTTP settings of the HTTP pull kinds.
struct HTTPPullOptions: Sendable {
    var authentication: HTTPPullAuthentication = .none
    var headers: [(String, String)] = []
    var timeout: Double = 30
    var connectTimeout: Double = 10
    /// PEM bundle of the authorities to trust (a department's own CA).
    var certificateAuthority: String?

    static let settingKeys: Set<String> = ["auth", "headers", "timeout", "connectTimeout", "certificateAuthority"]

    static func read(_ settings: inout PullSettingsReader) -> HTTPPullOptions {
        var options = HTTPPullOptions()
        options.authentication = HTTPPullAuthentication.read(&settings)
        options.headers = settings.stringMap("headers")
        for (name, _) in options.headers where name.lowercased() == "authorization" {
            settings.problem(settings.root["headers"], settings.path("headers.\(name)"), "credentials go in pull.auth (as a secret reference), not in headers")
        }
        options.timeout = settings.seconds("timeout", default: 30, in: 0.1...3600)
        options.connectTimeout = settings.seconds("connectTimeout", default: 10, in: 0.1...600)
        options.certificateAuthority = settings.string("certificateAuthority")
        return options
    }

    /// A request with these options applied.
    func request(method: String, url: String, body: [UInt8] = [], extraHeaders: [(String, String)] = [],
                 context: PullContext) throws(PullFailure) -> HTTPClientRequest {
        var request = HTTPClientRequest(method: method, url: url, headers: headers + extraHeaders, body: body,
                                        timeout: timeout, connectTimeout: connectTimeout)
        try authentication.apply(to: &request, context: context)
        if let certificateAuthority { request.certificateAuthorityFile = resolvePath(certificateAuthority, base: context.baseDirectory) }
        return request
    }
}

/// Turns transport errors and HTTP statuses into classified pull failures.
enum HTTPFailureClassifier {
    /// A transport failure: timeouts, refused connections and DNS failures pass; TLS and size do not.
    static func failure(_ error: HTTPClientError, page: String) -> PullFailure {
        let what: String
        switch error.kind {
        case .timeout: what = "timed out"
        case .connectionRefused: what = "connection refused"
        case .hostNotFound: what = "host not found"
        case .tls: what = "TLS failure"
        case .responseTooLarge: what = "response too large"
        case .other: what = "transfer failed"
        }
        return PullFailure(error.isRetriable ? .retriable : .permanent, "\(page): \(what) (\(error.message))")
    }

    /// nil for 2xx; otherwise the classified failure. 429 and 503 carry Retry-After when sent.
    static func failure(status: Int, response: HTTPClientResponse, page: String) -> PullFailure? {
        switch status {
        case 200..<300:
            return nil
        case 401, 403:
            return PullFailure(.permanent, "\(page): HTTP \(status): the department refused our credentials; check pull.auth")
        case 408, 425, 429, 500..<600:
            let after = response.header("Retry-After").flatMap(retryAfterSeconds)
            return PullFailure(.retriable, "\(page): HTTP \(status)" + (status == 429 ? " (too many requests)" : status >= 500 ? " (the department's system is failing or unavailable)" : ""),
                               retryAfter: after)
        default:
            return PullFailure(.permanent, "\(page): HTTP \(status): the request is wrong for this system; check pull.url and the template")
        }
    }

    /// Retry-After as seconds: a number, or an HTTP date (IMF-fixdate).
    static func retryAfterSeconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }
}

/// `{name}` placeholders in URL and envelope templates.
enum PullTemplate {
    /// The names used in `template`.
    static func placeholders(_ template: String) -> [String] {
        var names: [String] = []
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// Replaces each `{name}` with `values[name]` passed through `escape`; unknown names stay.
    static func fill(_ template: String, _ values: [String: String], escape: (String) -> String) -> String {
        var out = ""
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { rest = rest[open...]; break }
            let name = String(rest[rest.index(after: open)..<close])
            if let value = values[name] { out += escape(value) } else { out += rest[open...close] }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static let queryAllowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~")
        return set
    }()

    /// Percent-encodes a value for a URL query or path segment.
    static func urlEscape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? value
    }

    /// Escapes a value for XML text.
    static func xmlEscape(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }

    /// "GET /path?query" for page names: no scheme, host or credentials.
    static func pageName(method: String, url: String) -> String {
        guard let components = URLComponents(string: url) else { return method + " " + url }
        var name = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        if let query = components.percentEncodedQuery, !query.isEmpty { name += "?" + query }
        return method + " " + name
    }
}

/// Checks a URL setting: absolute http(s), no credentials inside.
func checkURLSetting(_ text: String, path: String, settings: inout PullSettingsReader, node: JSONNode?) {
    let probe = PullTemplate.fill(text, Dictionary(uniqueKeysWithValues: PullTemplate.placeholders(text).map { ($0, "0") }), escape: { $0 })
    guard let components = URLComponents(string: probe), let scheme = components.scheme?.lowercased(),
          scheme == "http" || scheme == "https", components.host?.isEmpty == false else {
        settings.problem(node, path, "must be an absolute http:// or https:// URL")
        return
    }
    if components.user != nil || components.password != nil {
        settings.problem(node, path, "must not carry credentials: use pull.auth with a secret reference")
    }
}
