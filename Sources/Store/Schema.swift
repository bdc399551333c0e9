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
        Migration(id: "0003_record_store", sql: """
            -- Landing: one row per distinct content an adapter delivered under a source key, so
            -- that re-delivering a record seen before (same adapter, source key and content hash)
            -- is a no-op, even when a file also holds later corrections of the same key.
            CREATE TABLE landing (
                adapter       text NOT NULL,
                source_key    text NOT NULL,
                content_hash  bytea NOT NULL,
                status        text NOT NULL CHECK (status IN ('accepted', 'rejected', 'skipped')),
                mapping_version integer NOT NULL,
                first_seen    timestamptz NOT NULL DEFAULT now(),
                last_changed  timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (adapter, source_key, content_hash)
            );

            -- Golden records: one per resource and identity key. record holds the values,
            -- provenance says per field which adapter, source record and mapping gave it.
            CREATE TABLE entities (
                id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                resource      text NOT NULL,
                identity_key  text NOT NULL,
                version       integer NOT NULL,
                record        jsonb NOT NULL,
                provenance    jsonb NOT NULL,
                created_at    timestamptz NOT NULL DEFAULT now(),
                updated_at    timestamptz NOT NULL DEFAULT now(),
                UNIQUE (resource, identity_key)
            );

            -- Every version of every golden record, for history reads.
            CREATE TABLE entity_versions (
                entity_id       uuid NOT NULL REFERENCES entities (id),
                version         integer NOT NULL,
                record          jsonb NOT NULL,
                provenance      jsonb NOT NULL,
                changed_fields  text[] NOT NULL,
                created_at      timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (entity_id, version)
            );

            -- A lower-ranked source that disagreed with a golden value. One open conflict per
            -- entity, field and challenging adapter; a later disagreement updates it.
            CREATE TABLE conflicts (
                id                  bigserial PRIMARY KEY,
                entity_id           uuid NOT NULL REFERENCES entities (id),
                resource            text NOT NULL,
                field               text NOT NULL,
                golden              jsonb NOT NULL,
                challenger          jsonb NOT NULL,
                challenger_adapter  text NOT NULL,
                status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
                created_at          timestamptz NOT NULL DEFAULT now(),
                updated_at          timestamptz NOT NULL DEFAULT now()
            );
            CREATE UNIQUE INDEX conflicts_one_open ON conflicts (entity_id, field, challenger_adapter) WHERE status = 'open';
            CREATE INDEX conflicts_status ON conflicts (status, id);

            -- Dead letters: source records that failed mapping or validation, with every reason
            -- and the record itself so that it can be retried after a mapping fix.
            CREATE TABLE rejects (
                id            bigserial PRIMARY KEY,
                adapter       text NOT NULL,
                source_key    text,
                position      text NOT NULL,
                issues        jsonb NOT NULL,
                record        jsonb,
                fingerprint   bytea NOT NULL,
                status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'retried')),
                created_at    timestamptz NOT NULL DEFAULT now(),
                retried_at    timestamptz
            );
            CREATE INDEX rejects_adapter ON rejects (adapter, status, id);
            -- The same bad input delivered again does not pile up: one open reject per fingerprint.
            CREATE UNIQUE INDEX rejects_one_open ON rejects (adapter, fingerprint) WHERE status = 'open';

            -- Where each adapter has read up to, written in the transaction of the data it covers.
            CREATE TABLE adapter_checkpoints (
                adapter     text PRIMARY KEY,
                checkpoint  text NOT NULL,
                updated_at  timestamptz NOT NULL DEFAULT now()
            );
            """),
        Migration(id: "0004_versions_stored_once", sql: """
            -- Bulk loads wrote every record three times (entities, entity_versions, change_log).
            -- Now each version is stored once: the current version in entities (with the fields
            -- it changed), superseded versions in entity_versions (moved there by the update that
            -- supersedes them), and a change event refers to its entity version instead of
            -- carrying a copy. change_log.record stays for events that have no entity version.
            ALTER TABLE entities ADD COLUMN changed_fields text[] NOT NULL DEFAULT '{}';
            UPDATE entities e SET changed_fields = v.changed_fields
              FROM entity_versions v WHERE v.entity_id = e.id AND v.version = e.version;
            DELETE FROM entity_versions v USING entities e WHERE v.entity_id = e.id AND v.version = e.version;
            ALTER TABLE change_log ALTER COLUMN record DROP NOT NULL;
            UPDATE change_log SET record = NULL WHERE record IS NOT NULL AND entity_id IN (SELECT id::text FROM entities);
            -- Provenance and event sources are written with every version and read whole: json
            -- (checked, kept as text) costs half of jsonb to write, and nothing queries inside them.
            ALTER TABLE entities ALTER COLUMN provenance TYPE json USING provenance::json;
            ALTER TABLE entity_versions ALTER COLUMN provenance TYPE json USING provenance::json;
            ALTER TABLE change_log ALTER COLUMN sources TYPE json USING sources::json;
            ALTER TABLE change_log ALTER COLUMN sources SET DEFAULT '[]';
            """),
        Migration(id: "0005_adapters", sql: """
            -- Adapter registrations and their run state. declaration is the JSON5 text as an admin
            -- or a file declared it (secrets only by reference); origin says which. A pull run is
            -- claimed by setting lease_owner/lease_until with UPDATE ... WHERE lease expired, and
            -- renewed while it runs, so one adapter never runs in two hub processes at once.
            CREATE TABLE adapters (
                id               text PRIMARY KEY,
                declaration      text NOT NULL,
                origin           text NOT NULL CHECK (origin IN ('file', 'api')),
                file             text,
                revision         bigint NOT NULL DEFAULT 1,
                pull_kind        text,
                pull_every       double precision,
                state            text NOT NULL DEFAULT 'running'
                                 CHECK (state IN ('running', 'paused', 'degraded', 'failing')),
                next_run_at      timestamptz,
                lease_owner      text,
                lease_until      timestamptz,
                failures         integer NOT NULL DEFAULT 0,
                last_run_at      timestamptz,
                last_success_at  timestamptz,
                last_error       text,
                last_error_at    timestamptz,
                runs             bigint NOT NULL DEFAULT 0,
                records_in       bigint NOT NULL DEFAULT 0,
                accepted         bigint NOT NULL DEFAULT 0,
                unchanged        bigint NOT NULL DEFAULT 0,
                rejected         bigint NOT NULL DEFAULT 0,
                skipped          bigint NOT NULL DEFAULT 0,
                created_at       timestamptz NOT NULL DEFAULT now(),
                updated_at       timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX adapters_due ON adapters (next_run_at)
                WHERE pull_kind IS NOT NULL AND state IN ('running', 'degraded');
            """),
        Migration(id: "0006_feed", sql: """
            -- Subscriptions of community platforms to the change feed. spec holds the validated
            -- scope (resources, fields, area, masking, delivery); the bearer token lives hashed in
            -- api_tokens (kind subscriber, subject = id). webhook secrets must stay readable to sign.
            CREATE TABLE subscriptions (
                id             text PRIMARY KEY,
                spec           jsonb NOT NULL,
                status         text NOT NULL CHECK (status IN ('active', 'paused', 'disabled', 'deleted')),
                pseudonym_key  bytea NOT NULL,
                created_at     timestamptz NOT NULL DEFAULT now(),
                updated_at     timestamptz NOT NULL DEFAULT now()
            );

            -- Webhook delivery state per subscription: the last acknowledged position, the lease
            -- that lets one hub process at a time deliver it, and the retry schedule.
            CREATE TABLE webhook_deliveries (
                subscription_id  text PRIMARY KEY REFERENCES subscriptions (id),
                position         bigint NOT NULL,
                lease_owner      text,
                lease_until      timestamptz,
                attempts         integer NOT NULL DEFAULT 0,
                next_attempt_at  timestamptz NOT NULL DEFAULT now(),
                failing_since    timestamptz,
                last_status      integer,
                last_error       text,
                updated_at       timestamptz NOT NULL DEFAULT now()
            );

            -- Every disclosure: who received what, for which purpose, through which channel.
            -- Append-only: a trigger refuses UPDATE and TRUNCATE always, and DELETE except by the
            -- retention purge (which sets recordonce.audit_purge_before and may only remove rows
            -- older than it). Triggers bind the table's owner and superusers too, unlike REVOKE.
            CREATE TABLE audit_log (
                id              bigserial PRIMARY KEY,
                time            timestamptz NOT NULL DEFAULT now(),
                actor           text NOT NULL,
                purpose         text NOT NULL,
                channel         text NOT NULL CHECK (channel IN ('pull', 'stream', 'webhook', 'snapshot', 'admin_read')),
                first_position  bigint,
                last_position   bigint,
                entity_ids      text[] NOT NULL,
                fields          text[] NOT NULL
            );
            CREATE INDEX audit_log_time ON audit_log (time);
            CREATE INDEX audit_log_actor ON audit_log (actor, id);
            CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                cutoff text := current_setting('recordonce.audit_purge_before', true);
            BEGIN
                IF TG_OP = 'DELETE' AND cutoff IS NOT NULL AND cutoff <> '' AND OLD.time < cutoff::timestamptz THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$;
            CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
                FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
            CREATE FUNCTION audit_log_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only (TRUNCATE refused)' USING ERRCODE = 'insufficient_privilege';
            END $$;
            CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
                FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_truncate();
            REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
            """),
        Migration(id: "0007_stewardship", sql: """
            -- Stewardship: conflicts get a third status (superseded: the disagreement went away by
            -- itself) and the admin's decision; departments are read from the two sides.
            ALTER TABLE conflicts DROP CONSTRAINT conflicts_status_check;
            ALTER TABLE conflicts ADD CONSTRAINT conflicts_status_check CHECK (status IN ('open', 'resolved', 'superseded'));
            ALTER TABLE conflicts
                ADD COLUMN golden_department text GENERATED ALWAYS AS (golden -> 'provenance' ->> 'department') STORED,
                ADD COLUMN challenger_department text GENERATED ALWAYS AS (challenger -> 'provenance' ->> 'department') STORED,
                ADD COLUMN decision text CHECK (decision IN ('keep_golden', 'take_challenger', 'set_value')),
                ADD COLUMN decided_value jsonb,
                ADD COLUMN reason text,
                ADD COLUMN decided_by text,
                ADD COLUMN decided_at timestamptz;
            CREATE INDEX conflicts_entity_field ON conflicts (entity_id, field);
            CREATE INDEX conflicts_open_by_pair ON conflicts (resource, field, golden_department, challenger_department)
                WHERE status = 'open';

            -- The admin overrides in force: one per entity and field. authority_* is what the
            -- field's authoritative department had sent when the override was made (a different
            -- value from it later retires the override); previous is the golden side the override
            -- replaced ({value, provenance}, null when the field had none), restored when removed.
            CREATE TABLE field_overrides (
                entity_id             uuid NOT NULL REFERENCES entities (id),
                field                 text NOT NULL,
                value                 jsonb NOT NULL,
                decided_by            text NOT NULL,
                reason                text NOT NULL,
                conflict_id           bigint REFERENCES conflicts (id),
                authority_department  text,
                authority_value       jsonb,
                previous              jsonb,
                created_at            timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (entity_id, field)
            );

            -- Record-once counters: every observation the store took, per department, resource
            -- and field, by what it was. Written in the batch's own transaction.
            CREATE TABLE record_once_counts (
                department        text NOT NULL,
                resource          text NOT NULL,
                field             text NOT NULL,
                new_fact          bigint NOT NULL DEFAULT 0,
                confirmation      bigint NOT NULL DEFAULT 0,
                authority_change  bigint NOT NULL DEFAULT 0,
                disagreement      bigint NOT NULL DEFAULT 0,
                PRIMARY KEY (department, resource, field)
            );

            -- Stewardship decisions go to the audit log too: who, what (action), why (purpose).
            ALTER TABLE audit_log DROP CONSTRAINT audit_log_channel_check;
            ALTER TABLE audit_log ADD CONSTRAINT audit_log_channel_check
                CHECK (channel IN ('pull', 'stream', 'webhook', 'snapshot', 'admin_read', 'stewardship'));
            ALTER TABLE audit_log ADD COLUMN action text;
            """),
        Migration(id: "0008_mapping_versions", sql: """
            -- Mapping versions published over the API (PUT /v1/mappings/{id}). The newest version of
            -- a mapping id is what every adapter using that mapping applies; earlier ones are kept.
            -- plan_digest: SHA-256 of the mapping without version and description, so a publish that
            -- changes the compiled plan must raise the version.
            CREATE TABLE mapping_versions (
                mapping_id    text NOT NULL,
                version       integer NOT NULL CHECK (version >= 1),
                text          text NOT NULL,
                plan_digest   text NOT NULL,
                published_at  timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (mapping_id, version)
            );
            -- The catalog the hub last started with (its files' text by path), for the compatibility
            -- check a hub runs when it starts with a changed catalog.
            CREATE TABLE catalog_snapshots (
                id           bigserial PRIMARY KEY,
                files        jsonb NOT NULL,
                digest       text NOT NULL,
                taken_at     timestamptz NOT NULL DEFAULT now()
            );
            """),
        Migration(id: "0008_landing_batches", sql: """
            -- The source content of accepted records, kept for replay after a mapping change: one
            -- row per stored batch, its accepted records as NDJSON (source key, record), in delivery
            -- order. TOAST compresses the text (lz4) once a batch passes about 2 kB.
            CREATE TABLE landing_batches (
                id               bigserial PRIMARY KEY,
                adapter          text NOT NULL,
                mapping_version  integer NOT NULL,
                records          integer NOT NULL,
                content          text COMPRESSION lz4 NOT NULL,
                stored_at        timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX landing_batches_adapter ON landing_batches (adapter, id);
            -- A replay's progress, so that a replay stopped by a crash or restart resumes after the
            -- last batch it finished.
            CREATE TABLE replay_runs (
                adapter          text PRIMARY KEY,
                mapping_id       text NOT NULL,
                mapping_version  integer NOT NULL,
                after_batch      bigint NOT NULL DEFAULT 0,
                batches          integer NOT NULL DEFAULT 0,
                records          integer NOT NULL DEFAULT 0,
                events           integer NOT NULL DEFAULT 0,
                started_at       timestamptz NOT NULL DEFAULT now(),
                finished_at      timestamptz
            );
            """),
        // The retention purge as a function that runs with its owner's rights, so a least-privilege
        // runtime role (`recordonce db init-roles`) needs no DELETE on the audit log at all: it may
        // only remove entries older than a whole number of days, never recent ones.
        Migration(id: "0010_audit_purge_function", sql: """
            CREATE FUNCTION audit_log_purge(retention_days integer) RETURNS bigint
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
            DECLARE
                cutoff timestamptz;
                removed bigint;
            BEGIN
                IF retention_days IS NULL OR retention_days < 1 THEN
                    RAISE EXCEPTION 'audit retention must be at least a day' USING ERRCODE = 'invalid_parameter_value';
                END IF;
                cutoff := now() - make_interval(days => retention_days);
                PERFORM set_config('recordonce.audit_purge_before', cutoff::text, true);
                DELETE FROM audit_log WHERE time < cutoff;
                GET DIAGNOSTICS removed = ROW_COUNT;
                PERFORM set_config('recordonce.audit_purge_before', '', true);
                RETURN removed;
            END $$;
            REVOKE EXECUTE ON FUNCTION audit_log_purge(integer) FROM PUBLIC;
            """),
        Migration(id: "0013_matching", sql: """
            -- Blocking keys of entities whose resource has match rules: SHA-256 (hex) of the rule name and
            -- normalized values (no personal data in clear). Rewritten in the batch's transaction
            -- whenever an entity gets a new version; candidates are found through this index only.
            CREATE TABLE match_keys (
                resource   text NOT NULL,
                block      text NOT NULL,
                entity_id  uuid NOT NULL REFERENCES entities (id),
                PRIMARY KEY (resource, block, entity_id)
            );
            CREATE INDEX match_keys_entity ON match_keys (entity_id);

            -- Records that arrived without a usable identity key and were not linked automatically:
            -- the review queue. The record waits here with its source position until it is linked
            -- (by an admin, or automatically when a later record with a clean key agrees) or rejected.
            CREATE TABLE match_cases (
                id              bigserial PRIMARY KEY,
                adapter         text NOT NULL,
                department      text NOT NULL,
                resource        text NOT NULL,
                source_key      text NOT NULL,
                position        text NOT NULL,
                mapping         text NOT NULL,
                mapping_version int NOT NULL,
                record          json NOT NULL,
                blocks          text[] NOT NULL,
                auto_link       double precision NOT NULL,
                outcome         text NOT NULL CHECK (outcome IN ('no_candidate', 'ambiguous', 'below_threshold')),
                candidates      json NOT NULL,
                score           double precision,
                status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'linked', 'rejected')),
                linked_entity   uuid REFERENCES entities (id),
                decided_by      text,
                reason          text,
                decided_at      timestamptz,
                created_at      timestamptz NOT NULL DEFAULT now(),
                updated_at      timestamptz NOT NULL DEFAULT now()
            );
            CREATE UNIQUE INDEX match_cases_open_record ON match_cases (adapter, resource, source_key) WHERE status = 'open';
            CREATE INDEX match_cases_open_blocks ON match_cases USING gin (blocks) WHERE status = 'open';
            CREATE INDEX match_cases_status ON match_cases (status, id);
            """),
        Migration(id: "0014_match_keys_without_entity_check", sql: """
            -- Bulk load: every new golden record of a resource with match rules writes a few
            -- blocking keys, and the foreign key made PostgreSQL look each one's entity up again
            -- (about a sixth of the index upkeep). No code path deletes an entity (entity_versions,
            -- conflicts, match cases and the change log all keep referring to it), and match_keys
            -- rows are written only for entity ids written or locked in the same transaction, so
            -- the check could never fail. Should entities ever be deleted, delete their keys too.
            ALTER TABLE match_keys DROP CONSTRAINT IF EXISTS match_keys_entity_id_fkey;
            """),
        Migration(id: "0015_audit_ids_uncompressed", sql: """
            -- A pull page of 10,000 events is one audit row whose entity_ids hold 10,000 UUIDs
            -- (about 370 kB). PostgreSQL tried to compress that with pglz before moving it out of
            -- line, which took more than half of the insert (14.5 ms of a page's audit on this
            -- project's machines) and saved nothing: random hex does not compress (the table was
            -- as large either way). Out of line without compression; rows written before keep
            -- their form, and every query reads both alike.
            ALTER TABLE audit_log ALTER COLUMN entity_ids SET STORAGE EXTERNAL;
            """),
        Migration(id: "0016_changed_fields_once", sql: """
            -- Every entity version has its change event, and the event names the fields the
            -- version changed (change_log, found by resource, entity and version; the change log
            -- is never purged). Storing them again with the version cost a bulk load about 160
            -- bytes per new entity and a sixth of its COPY into entities, and nothing read them.
            ALTER TABLE entities DROP COLUMN changed_fields;
            ALTER TABLE entity_versions DROP COLUMN changed_fields;
            """),
        Migration(id: "0017_short_blocking_keys", sql: """
            -- A blocking key is now the first 64 bits of its SHA-256 (16 hex digits, not 64). It
            -- only finds candidates, which are then scored on their values, so two keys that share
            -- a prefix (about one pair in 10^6 for a city's keys) cost one more candidate to score,
            -- never a wrong link; and match_keys, four rows per person with both indexes, was the
            -- bulk load's third largest write. Stored keys are cut the same way.
            ALTER TABLE match_keys DROP CONSTRAINT match_keys_pkey;
            UPDATE match_keys SET block = left(block, 16) WHERE length(block) > 16;
            DELETE FROM match_keys a USING match_keys b
              WHERE a.ctid < b.ctid AND a.resource = b.resource AND a.block = b.block AND a.entity_id = b.entity_id;
            ALTER TABLE match_keys ADD PRIMARY KEY (resource, block, entity_id);
            UPDATE match_cases SET blocks = ARRAY(SELECT left(b, 16) FROM unnest(blocks) AS b)
              WHERE EXISTS (SELECT 1 FROM unnest(blocks) AS b WHERE length(b) > 16);
            """),
    ]
}
