import CLIKit

/// The `recordonce` command tree. Each subcommand lives in its own file and calls into the modules.
enum RecordOnceCommand {
    static let root = Command(
        "recordonce",
        abstract: "RecordOnce: the data-exchange hub between department systems and community platforms.",
        discussion: """
        Department records come in through adapters, are mapped to one canonical form, kept as one
        golden record per person, household, building and organization, and republished to the
        community platforms that subscribe. Exit status: 0 ok, 1 failure, 2 usage or validation error.
        """,
        subcommands: commands
    )

    /// Every subcommand, in the order --help lists them.
    static var commands: [Command] {
        [serveCommand, configCommand, demoCommand, importCommand, adapterCommand, subscriptionCommand, conflictCommand, recordCommand, matchCommand, databaseCommand, catalogCommand, mappingCommand, districtCommand, versionCommand]
    }
}
