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
    ]
)
