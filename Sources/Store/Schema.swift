/// The hub's database schema, as versioned migrations applied at start-up and by
/// `recordonce db migrate`. Append new migrations; never edit one that has shipped.
public enum Schema {
    public static let migrations: [Migration] = [
        Migration(id: "0001_api_tokens", sql: """
            -- Bearer tokens, stored only as SHA-256 hashes. kind says what a token may do:
            -- admin (everything), adapter (push to one adapter), subscriber (read one feed).
            CREATE TABLE api_tokens (
                id          bigserial PRIMARY KEY,
                kind        text NOT NULL CHECK (kind IN ('admin', 'adapter', 'subscriber')),
                subject     text,
                token_hash  bytea NOT NULL UNIQUE,
                created_at  timestamptz NOT NULL DEFAULT now(),
                revoked_at  timestamptz
            );
            -- One live admin token at a time, so two hubs starting at once cannot both make one.
            CREATE UNIQUE INDEX api_tokens_one_admin ON api_tokens (kind)
                WHERE kind = 'admin' AND revoked_at IS NULL;
            """),
        Migration(id: "0002_change_log", sql: """
            -- The feed's outbox. position is gap-free and in commit order: writers take the next
            -- positions from change_log_head as the last statement of their transaction, and the
            -- row lock on the head is held until commit, so a later position cannot become
            -- visible before an earlier one. Readers page with "position > P".
            CREATE TABLE change_log (
                position        bigint PRIMARY KEY,
                resource        text NOT NULL,
                entity_id       text NOT NULL,
                version         integer NOT NULL,
                operation       text NOT NULL CHECK (operation IN ('created', 'updated', 'deleted')),
                changed_fields  text[] NOT NULL,
                record          jsonb NOT NULL,
                sources         jsonb NOT NULL DEFAULT '[]',
                created_at      timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX change_log_entity ON change_log (resource, entity_id, version);
            CREATE TABLE change_log_head (
                singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                position   bigint NOT NULL
            );
            INSERT INTO change_log_head VALUES (true, 0);
            """),
    ]
}
