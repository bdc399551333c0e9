import Catalog
import Foundation
import Secrets
import Store

/// Subscriptions in PostgreSQL: create (with a token shown once and stored hashed), read, change,
/// pause and remove.
public final class SubscriptionStore: Sendable {
    public let pool: ConnectionPool
    public let validator: SubscriptionValidator

    public init(pool: ConnectionPool, catalog: Catalog) {
        self.pool = pool
        validator = SubscriptionValidator(catalog: catalog)
    }

    /// A created subscription and its bearer token (the only time the token is available).
    public struct Created: Sendable {
        public let subscription: Subscription
        public let token: String
    }

    /// Validates and stores a new subscription. Webhook subscriptions start delivering at the
    /// feed's current head (bootstrap older state from the snapshot).
    public func create(_ spec: SubscriptionSpec) throws -> Created {
        let valid = try validator.validate(spec)
        let id = "sub_" + Secrets.hex(Secrets.randomBytes(8))
        let token = Secrets.newToken(prefix: "ro_sub")
        let key = Secrets.randomBytes(32)
        let status = valid.status ?? "active"
        try pool.transaction { c in
            try c.execute("INSERT INTO subscriptions (id, spec, status, pseudonym_key) VALUES ($1, $2::jsonb, $3, $4)",
                          [id, PostgresJSON(try Self.encode(valid)), status, PostgresBytes(key)])
            try c.execute("INSERT INTO api_tokens (kind, subject, token_hash) VALUES ('subscriber', $1, $2)",
                          [id, PostgresBytes(Secrets.sha256(token))])
            if valid.delivery?.mode == "webhook" {
                try c.execute("INSERT INTO webhook_deliveries (subscription_id, position) VALUES ($1, $2)", [id, try ChangeLog.head(c)])
            }
        }
        guard let stored = try get(id) else { throw FeedError.notFound("subscription \(id) vanished after it was created") }
        return Created(subscription: stored, token: token)
    }

    /// Every subscription that is not deleted, oldest first.
    public func list() throws -> [Subscription] {
        try pool.withConnection { c in
            try c.query("""
                SELECT id, spec::text AS spec, status, pseudonym_key, created_at, updated_at FROM subscriptions
                WHERE status <> 'deleted' ORDER BY created_at, id
                """).rows.map(Self.subscription)
        }
    }

    /// One subscription (nil when unknown or deleted).
    public func get(_ id: String) throws -> Subscription? {
        try pool.withConnection { c in
            try c.query("""
                SELECT id, spec::text AS spec, status, pseudonym_key, created_at, updated_at FROM subscriptions
                WHERE id = $1 AND status <> 'deleted'
                """, [id]).first.map(Self.subscription)
        }
    }

    /// Applies the members `change` gives, validates the result and stores it. Setting `status`
    /// to `active` also re-enables a subscription the webhook dispatcher disabled.
    public func update(_ id: String, _ change: SubscriptionSpec) throws -> Subscription {
        guard let current = try get(id) else { throw FeedError.notFound("no subscription \(id)") }
        var merged = current.spec.merged(with: change)
        merged.status = change.status
        let valid = try validator.validate(merged)
        var stored = valid
        stored.status = nil
        let status = change.status ?? current.status.rawValue
        try pool.transaction { c in
            try c.execute("UPDATE subscriptions SET spec = $2::jsonb, status = $3, updated_at = now() WHERE id = $1",
                          [id, PostgresJSON(try Self.encode(stored)), status])
            if valid.delivery?.mode == "webhook" {
                try c.execute("""
                    INSERT INTO webhook_deliveries (subscription_id, position) VALUES ($1, $2) ON CONFLICT (subscription_id) DO NOTHING
                    """, [id, try ChangeLog.head(c)])
                if change.status == "active" {
                    try c.execute("""
                        UPDATE webhook_deliveries SET failing_since = NULL, attempts = 0, next_attempt_at = now() WHERE subscription_id = $1
                        """, [id])
                }
            }
        }
        guard let updated = try get(id) else { throw FeedError.notFound("no subscription \(id)") }
        return updated
    }

    /// Removes a subscription: its tokens are revoked at once; the row stays (status deleted) so
    /// the audit log's references keep their meaning.
    public func delete(_ id: String) throws {
        let changed = try pool.transaction { c in
            let n = try c.execute("UPDATE subscriptions SET status = 'deleted', updated_at = now() WHERE id = $1 AND status <> 'deleted'", [id])
            try c.execute("UPDATE api_tokens SET revoked_at = now() WHERE kind = 'subscriber' AND subject = $1 AND revoked_at IS NULL", [id])
            return n
        }
        if changed == 0 { throw FeedError.notFound("no subscription \(id)") }
    }

    /// Sets where webhook delivery continues: events after `position` are delivered (again).
    public func redeliver(_ id: String, after position: Int64) throws {
        guard let s = try get(id) else { throw FeedError.notFound("no subscription \(id)") }
        guard s.isWebhook else { throw FeedError.conflict("subscription \(id) is not a webhook subscription") }
        _ = try pool.withConnection { c in
            try c.execute("""
                UPDATE webhook_deliveries SET position = $2, attempts = 0, next_attempt_at = now(), failing_since = NULL
                WHERE subscription_id = $1
                """, [id, position])
        }
    }

    static func encode(_ spec: SubscriptionSpec) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(spec), as: UTF8.self)
    }

    static func subscription(_ row: Row) throws -> Subscription {
        let spec = try JSONDecoder().decode(SubscriptionSpec.self, from: Data(try row.decode(String.self, "spec").utf8))
        return Subscription(id: try row.decode(String.self, "id"), spec: spec,
                            status: Subscription.Status(rawValue: try row.decode(String.self, "status")) ?? .paused,
                            pseudonymKey: try row.decode(PostgresBytes.self, "pseudonym_key").bytes,
                            createdAt: try row.decode(Date.self, "created_at"), updatedAt: try row.decode(Date.self, "updated_at"))
    }
}
