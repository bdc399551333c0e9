import Feed
import Foundation
import HTTP
import Secrets
import Store

/// Who is calling: resolved from `Authorization: Bearer <token>`.
public enum Principal: Sendable, Equatable {
    case admin
    case adapter(String)
    case subscriber(String)
}

/// Checks bearer tokens against the hashes in `api_tokens`.
public struct Authenticator: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// The caller of `request`; 401 without a valid token.
    public func principal(for request: Request) throws -> Principal {
        guard let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") else {
            throw HTTPError(status: 401, code: "unauthorized", message: "send Authorization: Bearer <token>",
                            headers: [HTTPHeader("WWW-Authenticate", "Bearer")])
        }
        let token = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        let hash = PostgresBytes(Secrets.sha256(token))
        let row = try pool.withConnection { c in
            try c.query("SELECT kind, subject FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL", [hash]).first
        }
        switch (row?["kind"], row?["subject"]) {
        case ("admin"?, _): return .admin
        case ("adapter"?, let subject?): return .adapter(subject)
        case ("subscriber"?, let subject?): return .subscriber(subject)
        default:
            throw HTTPError(status: 401, code: "unauthorized", message: "the token is not valid",
                            headers: [HTTPHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"")])
        }
    }

    /// 401 without a valid token, 403 for a valid token that is not the admin's.
    public func requireAdmin(_ request: Request) throws {
        guard try principal(for: request) == .admin else {
            throw HTTPError.forbidden("this endpoint is for the hub's admins")
        }
    }

    /// The admin credential's name for provenance and the audit log (its subject, else `admin`);
    /// 401/403 like `requireAdmin`.
    public func adminName(_ request: Request) throws -> String {
        try requireAdmin(request)
        let token = (request.header("authorization") ?? "").dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        let subject = try pool.withConnection { c in
            try c.query("SELECT subject FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
                        [PostgresBytes(Secrets.sha256(token))]).first?["subject"]
        }
        return subject.flatMap { $0.isEmpty ? nil : $0 } ?? "admin"
    }

    /// 401 without a valid token; 403 unless the caller is an admin or adapter `id` itself (a
    /// department team reading its own adapter). Returns the caller.
    @discardableResult
    public func requireAdminOrAdapter(_ request: Request, _ id: String) throws -> Principal {
        let principal = try principal(for: request)
        switch principal {
        case .admin: return principal
        case .adapter(let own) where own == id: return principal
        case .adapter: throw HTTPError.forbidden("an adapter's token may read only its own adapter ('\(id)' is another one)")
        case .subscriber: throw HTTPError.forbidden("this endpoint is for the hub's admins and the adapter's own token")
        }
    }

    /// The caller as the feed's routes see it.
    public func feedCaller(_ request: Request) throws -> FeedCaller {
        switch try principal(for: request) {
        case .admin: return .admin
        case .subscriber(let id): return .subscriber(id)
        case .adapter: return .other
        }
    }
}
