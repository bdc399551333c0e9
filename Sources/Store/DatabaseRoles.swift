import Foundation

/// Least-privilege roles for a hub on an external PostgreSQL: an owner role that owns the schema
/// and runs migrations, and a runtime role that the hub connects as.
///
/// The runtime role reads and writes the working tables but may only append to the change log
/// and the audit log: it has no UPDATE, DELETE or TRUNCATE on them, owns nothing (so it cannot
/// ALTER or DROP), and cannot create tables. The audit retention purge goes through
/// `audit_log_purge(days)`, which runs with the owner's rights (migration 0010).
public struct DatabaseRoles: Sendable {
    public var owner: String
    public var runtime: String
    /// Passwords to set (nil: leave as they are, e.g. for certificate or peer authentication).
    public var ownerPassword: String?
    public var runtimePassword: String?

    /// Tables the runtime role may insert into but never change.
    public static let appendOnlyTables = ["change_log", "audit_log"]

    public init(owner: String = "recordonce_owner", runtime: String = "recordonce_runtime",
                ownerPassword: String? = nil, runtimePassword: String? = nil) {
        self.owner = owner
        self.runtime = runtime
        self.ownerPassword = ownerPassword
        self.runtimePassword = runtimePassword
    }

    /// Step 1, run by a superuser (or a CREATEROLE role owning the database) in the hub's database:
    /// creates the roles, gives the owner the schema and everything already in it, and sets the
    /// default privileges that grant the runtime role its rights on tables the owner creates later.
    public func rolesSQL(database: String, showPasswords: Bool = true) -> String {
        let o = PostgresConnection.quoteIdentifier(owner), r = PostgresConnection.quoteIdentifier(runtime)
        func password(_ value: String?) -> String {
            guard let value else { return "" }
            return " PASSWORD " + (showPasswords ? Self.literal(value) : "'…'")
        }
        return """
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = \(Self.literal(owner))) THEN CREATE ROLE \(o); END IF;
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = \(Self.literal(runtime))) THEN CREATE ROLE \(r); END IF;
                -- A non-superuser administrator must be a member of the owner to act as it.
                IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                    EXECUTE format('GRANT %I TO %I', \(Self.literal(owner)), current_user);
                END IF;
            END $$;
            ALTER ROLE \(o) LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS\(password(ownerPassword));
            ALTER ROLE \(r) LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS\(password(runtimePassword));
            REVOKE CREATE ON SCHEMA public FROM PUBLIC;
            GRANT CONNECT, TEMPORARY ON DATABASE \(PostgresConnection.quoteIdentifier(database)) TO \(o), \(r);
            GRANT USAGE, CREATE ON SCHEMA public TO \(o);
            GRANT USAGE ON SCHEMA public TO \(r);
            -- Tables and functions created before (say, by an earlier hub that ran as the administrator).
            DO $$ DECLARE item record; BEGIN
                FOR item IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner <> \(Self.literal(owner)) LOOP
                    EXECUTE format('ALTER TABLE public.%I OWNER TO %I', item.tablename, \(Self.literal(owner)));
                END LOOP;
                FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                            WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = \(Self.literal(owner))) LOOP
                    EXECUTE format('ALTER FUNCTION %s OWNER TO %I', item.signature, \(Self.literal(owner)));
                END LOOP;
            END $$;
            ALTER DEFAULT PRIVILEGES FOR ROLE \(o) IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO \(r);
            ALTER DEFAULT PRIVILEGES FOR ROLE \(o) IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO \(r);
            """
    }

    /// Step 3, run as the owner after the migrations: the runtime role's rights on what exists now,
    /// then append-only for the change log and the audit log.
    public func grantsSQL() -> String {
        let r = PostgresConnection.quoteIdentifier(runtime)
        let appendOnly = Self.appendOnlyTables.joined(separator: ", ")
        return """
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(r);
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO \(r);
            REVOKE UPDATE, DELETE, TRUNCATE ON \(appendOnly) FROM \(r);
            REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM \(r);
            GRANT EXECUTE ON FUNCTION audit_log_purge(integer) TO \(r);
            """
    }

    /// The whole procedure as one script, for a DBA who runs it by hand (psql as a superuser).
    public func script(database: String) -> String {
        """
        -- 1. As a superuser, in the database \(database):
        \(rolesSQL(database: database, showPasswords: false))
        -- 2. As the owner: apply the migrations (recordonce db migrate --database-url <owner's URL>).
        SET ROLE \(PostgresConnection.quoteIdentifier(owner));
        -- 3. Still as the owner:
        \(grantsSQL())
        RESET ROLE;
        """
    }

    /// Creates the roles, migrates as the owner, and grants; returns the migrations applied.
    /// `adminURL` connects as a superuser (or a CREATEROLE role that owns the database).
    public func apply(adminURL: String, migrations: [Migration], log: (String) -> Void = { _ in }) throws -> [String] {
        let connection = try PostgresConnection(url: adminURL)
        let database = try connection.query("SELECT current_database() AS name")[0].decode(String.self, "name")
        try connection.executeScript(rolesSQL(database: database))
        try connection.executeScript("SET ROLE \(PostgresConnection.quoteIdentifier(owner))")
        let applied = try Migrator(migrations: migrations).migrate(connection, log: log)
        try connection.transaction { try $0.executeScript(grantsSQL()) }
        try connection.executeScript("RESET ROLE")
        return applied
    }

    /// A SQL string literal.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
