import CLIKit
import Feed
import Foundation
import JSON5

/// `recordonce subscription ...`: manage feed subscriptions on a running hub over HTTP.
enum SubscriptionCommandOptions {
    static let connection: [Option] = [
        Option("url", value: "URL", help: "The running hub.", environment: "RECORDONCE_URL", default: "http://127.0.0.1:8080"),
        Option("token", value: "TOKEN", help: "The admin token (<data-dir>/admin.token).", environment: "RECORDONCE_ADMIN_TOKEN"),
    ]

    static func client(_ args: ParsedArguments) throws -> SubscriptionClient {
        guard let token = args.value("token"), !token.isEmpty else {
            throw UsageError("give the admin token with --token or RECORDONCE_ADMIN_TOKEN")
        }
        return SubscriptionClient(baseURL: args.value("url")!, token: token)
    }

    static func id(_ args: ParsedArguments) -> String { args.positional(0)! }

    /// Prints the hub's answer; a refusal prints its message and exits 1 (2 for an invalid spec).
    static func run(_ body: () throws -> String) -> Int32 {
        do {
            let text = try body()
            if !text.isEmpty { print(text) }
            return ExitCode.success
        } catch let failure as SubscriptionClient.Failure {
            CommandLineRunner.printError(failure.description)
            return failure.status == 400 ? ExitCode.usage : ExitCode.failure
        } catch {
            CommandLineRunner.printError(String(describing: error))
            return ExitCode.failure
        }
    }
}

let subscriptionCommand = Command(
    "subscription",
    abstract: "Manage change-feed subscriptions of community platforms on a running hub.",
    subcommands: [
        Command(
            "create",
            abstract: "Register a subscription; prints it with its token (shown only this once).",
            discussion: """
            Give the spec as a JSON5 file (--spec, see docs/feed.md) or with options. Fields marked
            sensitive or special in the catalog are masked or omitted unless --mask names them.
            """,
            options: [
                Option("spec", value: "FILE", help: "A JSON5 file with name, purpose, resources, fields, area, masking, delivery."),
                Option("name", value: "TEXT", help: "The platform's name."),
                Option("purpose", value: "TEXT", help: "The legal basis, recorded with every disclosure."),
                Option("resource", value: "NAME", help: "A catalog resource (repeatable).", repeatable: true),
                Option("area", value: "PREFIX", help: "A division-code prefix (repeatable).", repeatable: true),
                Option("mask", value: "Resource.field=POLICY", help: "plain, masked, pseudonymized or omitted (repeatable).", repeatable: true),
                Option("webhook", value: "URL", help: "Deliver by webhook to this URL (default: pull)."),
            ] + SubscriptionCommandOptions.connection
        ) { args in
            var spec = SubscriptionSpec()
            if let file = args.value("spec") {
                guard let data = FileManager.default.contents(atPath: file) else { throw UsageError("cannot read \(file)") }
                let decoder = JSONDecoder()
                decoder.allowsJSON5 = true
                do { spec = try decoder.decode(SubscriptionSpec.self, from: data) } catch {
                    throw UsageError("\(file) is not a subscription spec: \(error)")
                }
            }
            if let v = args.value("name") { spec.name = v }
            if let v = args.value("purpose") { spec.purpose = v }
            if !args.values("resource").isEmpty { spec.resources = args.values("resource") }
            if !args.values("area").isEmpty { spec.area = args.values("area") }
            for item in args.values("mask") {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw UsageError("--mask expects Resource.field=policy, got '\(item)'") }
                spec.masking = (spec.masking ?? [:]).merging([parts[0]: parts[1]]) { $1 }
            }
            if let url = args.value("webhook") { spec.delivery = .init(mode: "webhook", url: url) }
            let client = try SubscriptionCommandOptions.client(args)
            return SubscriptionCommandOptions.run { try client.create(spec) }
        },
        Command("list", abstract: "List subscriptions.", options: SubscriptionCommandOptions.connection) { args in
            let client = try SubscriptionCommandOptions.client(args)
            return SubscriptionCommandOptions.run { try client.list() }
        },
        Command("show", abstract: "Show one subscription.", options: SubscriptionCommandOptions.connection,
                arguments: [Argument("id", help: "The subscription id (sub_...).")]) { args in
            let client = try SubscriptionCommandOptions.client(args)
            return SubscriptionCommandOptions.run { try client.show(SubscriptionCommandOptions.id(args)) }
        },
        Command("pause", abstract: "Stop delivering to a subscription until it is resumed.", options: SubscriptionCommandOptions.connection,
                arguments: [Argument("id", help: "The subscription id.")]) { args in
            let client = try SubscriptionCommandOptions.client(args)
            return SubscriptionCommandOptions.run { try client.change(SubscriptionCommandOptions.id(args), SubscriptionSpec(status: "paused")) }
        },
        Command("resume", abstract: "Resume a paused or disabled subscription.", options: SubscriptionCommandOptions.connection,
                arguments: [Argument("id", help: "The subscription id.")]) { args in
            let client = try SubscriptionCommandOptions.client(args)
            return SubscriptionCommandOptions.run { try client.change(SubscriptionCommandOptions.id(args), SubscriptionSpec(status: "active")) }
        },
        Command("delete", abstract: "Remove a subscription and revoke its token.", options: SubscriptionCommandOptions.connection,
                arguments: [Argument("id", help: "The subscription id.")]) { args in
            let client = try SubscriptionCommandOptions.client(args)
            return SubscriptionCommandOptions.run {
                try client.delete(SubscriptionCommandOptions.id(args))
                return "deleted \(SubscriptionCommandOptions.id(args))"
            }
        },
    ]
)
