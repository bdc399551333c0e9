import CLIKit
import Foundation
import Hub
import Store

let databaseCommand = Command(
    "db",
    abstract: "Manage the hub's database.",
    subcommands: [
        Command(
            "migrate",
            abstract: "Apply pending schema migrations, then exit.",
            discussion: """
            The hub also migrates at start-up; this command is for deployments that migrate as a
            separate step. Concurrent runs wait for each other: each migration is applied once.
            """,
            options: HubOptions.database + HubOptions.logging
        ) { args in
            let logger = HubOptions.logger(args, label: "migrate")
            let database = try HubDatabase.open(try HubOptions.configuration(args), logger: logger)
            defer { database.close() }
            let applied = try Migrator(migrations: Schema.migrations).migrate(PostgresConnection(url: database.url)) { id in
                print("applied \(id)")
            }
            print(applied.isEmpty ? "database is up to date (\(Schema.migrations.count) migrations)" : "applied \(applied.count) migration(s)")
            return ExitCode.success
        },
        Command(
            "init-roles",
            abstract: "Create an owner role that migrates and a least-privilege runtime role for the hub.",
            discussion: """
            For an external PostgreSQL. Connect with --database-url as a superuser (or a CREATEROLE role
            that owns the database). The owner role gets the schema and everything in it and applies the
            migrations; the runtime role, which the hub then runs as (serve --database-url with its name),
            may read and write the working tables but only append to change_log and audit_log: no UPDATE,
            DELETE, TRUNCATE, ALTER or DROP on them, no CREATE anywhere. Safe to run again (after an
            upgrade, or after a restore). --print-sql prints the same steps as SQL for a DBA and changes
            nothing. Give passwords through RECORDONCE_OWNER_PASSWORD and RECORDONCE_RUNTIME_PASSWORD
            rather than options: a command line is visible to every local user.
            """,
            options: [
                Option("database-url", value: "URL", help: "The hub's database, connecting as a superuser (not the hub's own URL)."),
                Option("owner-role", value: "NAME", help: "Role that owns the schema and migrates.", default: "recordonce_owner"),
                Option("runtime-role", value: "NAME", help: "Role the hub connects as.", default: "recordonce_runtime"),
                Option("owner-password", value: "TEXT", help: "Password to set for the owner role (unset: left as is).",
                       environment: "RECORDONCE_OWNER_PASSWORD"),
                Option("runtime-password", value: "TEXT", help: "Password to set for the runtime role (unset: left as is).",
                       environment: "RECORDONCE_RUNTIME_PASSWORD"),
                .flag("print-sql", help: "Print the SQL instead of running it."),
            ]
        ) { args in
            let roles = DatabaseRoles(owner: args.value("owner-role") ?? "recordonce_owner",
                                      runtime: args.value("runtime-role") ?? "recordonce_runtime",
                                      ownerPassword: args.value("owner-password"), runtimePassword: args.value("runtime-password"))
            if args.flag("print-sql") {
                print(roles.script(database: "<database>"))
                return ExitCode.success
            }
            guard let url = args.value("database-url"), !url.isEmpty else {
                throw UsageError("init-roles needs --database-url (a superuser's connection to the hub's database)")
            }
            let applied = try roles.apply(adminURL: url, migrations: Schema.migrations) { print("applied \($0)") }
            print("roles ready: \(roles.owner) owns the schema (\(applied.count) migration(s) applied), "
                  + "\(roles.runtime) may only append to \(DatabaseRoles.appendOnlyTables.joined(separator: " and "))")
            return ExitCode.success
        },
        Command(
            "backup",
            abstract: "Write a consistent backup of the hub's database to FILE (pg_dump, custom format).",
            discussion: """
            Works while the hub runs: pg_dump reads one snapshot, so the change log, its head, the
            subscriptions' positions and the audit log agree with each other. Without --database-url the
            embedded cluster in --data-dir is backed up (started for the backup if no hub runs it).
            Needs pg_dump from Debian's postgresql-client-15 (deploy/setup installs it).
            """,
            options: HubOptions.database + HubOptions.logging,
            arguments: [Argument("FILE", help: "The backup file to write.")]
        ) { args in
            let logger = HubOptions.logger(args, label: "backup")
            let database = try HubDatabase.open(try HubOptions.configuration(args), logger: logger)
            defer { database.close() }
            let file = args.positional(0)!
            try DatabaseBackup.backup(url: database.url, to: file)
            print("backed up to \(file)")
            return ExitCode.success
        },
        Command(
            "restore",
            abstract: "Load a backup written by `db backup` into a new, empty database.",
            discussion: """
            Refuses a database that already has tables. Without --database-url the backup goes into the
            embedded cluster of --data-dir (use a new folder; stop any hub on it first). The restore runs
            in one transaction: it loads completely or not at all. Roles and grants are not restored;
            run `recordonce db init-roles` afterwards when the database uses separate roles. A hub
            started on the restored database continues the change log after its last position, and
            every subscriber continues from its own.
            """,
            options: HubOptions.database + HubOptions.logging,
            arguments: [Argument("FILE", help: "A backup written by `recordonce db backup`.")]
        ) { args in
            let logger = HubOptions.logger(args, label: "restore")
            let database = try HubDatabase.open(try HubOptions.configuration(args), logger: logger)
            defer { database.close() }
            let file = args.positional(0)!
            try DatabaseBackup.restore(from: file, url: database.url)
            print("restored \(file)")
            return ExitCode.success
        },
    ]
)
