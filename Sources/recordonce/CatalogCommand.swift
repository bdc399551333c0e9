import Catalog
import CLIKit
import Foundation
import Hub
import Store

/// `recordonce catalog [NAME]`: prints the canonical catalog, one resource, or one code table.
let catalogCommand = Command(
    "catalog",
    abstract: "Print the canonical catalog, one resource or one code table.",
    discussion: """
    Without NAME: every resource with its fields, then the list of code tables. NAME may be a
    resource (Person) or a code table (sex). --update-docs FILE rewrites the generated part of a
    markdown file (docs/catalog.md) from the same data. A catalog with problems prints all of
    them with file:line:column and exits with status 2.
    """,
    options: [
        Option("catalog", value: "DIR", help: "Catalog folder.", environment: "RECORDONCE_CATALOG_DIR",
               default: "mappings/catalog"),
        Option("format", value: "FORMAT", help: "Output format.", default: "text", choices: ["text", "json", "markdown"]),
        Option("update-docs", value: "FILE", help: "Rewrite the generated part of this markdown file instead of printing."),
    ],
    arguments: [Argument("name", help: "A resource or code table name.", optional: true)],
    subcommands: [catalogCheckCommand]
) { arguments in
    let directory = arguments.value("catalog") ?? "mappings/catalog"
    let catalog: Catalog
    do {
        catalog = try Catalog.load(directory: directory)
    } catch {
        CommandLineRunner.printError(String(describing: error))
        return ExitCode.usage
    }
    if let docs = arguments.value("update-docs") {
        let current = (try? String(contentsOfFile: docs, encoding: .utf8)) ?? ""
        let updated = CatalogDocument.updating(current, with: catalog)
        if updated == current {
            print("\(docs) is up to date")
        } else {
            try Data(updated.utf8).write(to: URL(fileURLWithPath: docs))
            print("updated \(docs)")
        }
        return ExitCode.success
    }
    let format = arguments.value("format") ?? "text"
    guard let name = arguments.positional(0) else {
        switch format {
        case "json": print(CatalogJSON.value(catalog).jsonText())
        case "markdown": print(CatalogDocument.markdown(catalog), terminator: "")
        default: print(CatalogText.overview(catalog), terminator: "")
        }
        return ExitCode.success
    }
    if let resource = catalog.resource(name) {
        switch format {
        case "json": print(CatalogJSON.value(catalog, resource: name).jsonText())
        case "markdown":
            let single = Catalog(departments: catalog.departments, resources: [resource],
                                 codeTables: catalog.codeTables.filter { table in resource.fields.contains { $0.type.codeTable == table.name } })
            print(CatalogDocument.markdown(single), terminator: "")
        default: print(CatalogText.resource(resource, in: catalog), terminator: "")
        }
        return ExitCode.success
    }
    if let table = catalog.codeTable(name) {
        switch format {
        case "json": print(CatalogJSON.codeTableValue(table).jsonText())
        case "markdown":
            print(CatalogDocument.markdown(Catalog(departments: [], resources: [], codeTables: [table])), terminator: "")
        default: print(CatalogText.codeTable(table), terminator: "")
        }
        return ExitCode.success
    }
    let names = catalog.resources.map(\.name) + catalog.codeTables.map(\.name)
    throw UsageError("no resource or code table named '\(name)' (known: \(names.joined(separator: ", ")))")
}

/// `recordonce catalog check`: what a changed catalog would break, before it goes live.
let catalogCheckCommand = Command(
    "check",
    abstract: "Check a changed catalog against the one in use: every breaking change, with what it breaks.",
    discussion: """
    Compares --catalog (the changed catalog) with --against (the catalog in use), or, without
    --against, with the catalog the hub at --database-url last started with. Breaking: a resource
    or field removed or renamed that a mapping, a subscription grant or stored records use; a code
    removed from a table that stored records hold or a mapping's crosswalk produces (with the
    count); an identity key changed; a type narrowed; a field made required that mappings or
    stored records leave empty. Non-breaking changes (a new optional field, a new code, a widened
    type) are listed as notes. Stored records and subscription grants are looked at only with
    --database-url; mappings are the files of --mappings plus, with a database, the versions
    published over the API. The hub runs the same check when it starts with a changed catalog.
    Exit status: 0 nothing breaks, 1 breaking changes, 2 a catalog does not load.
    """,
    options: [
        Option("catalog", value: "DIR", help: "The changed catalog.", environment: "RECORDONCE_CATALOG_DIR", default: "mappings/catalog"),
        Option("against", value: "DIR", help: "The catalog in use (default: the one the hub at --database-url last started with)."),
        Option("mappings", value: "DIR", help: "Mapping files.", environment: "RECORDONCE_MAPPINGS_DIR", default: "mappings"),
        Option("database-url", value: "URL", help: "The hub's PostgreSQL: stored records, subscription grants, published mappings.",
               environment: "RECORDONCE_DATABASE_URL"),
        Option("format", value: "FORMAT", help: "Output format.", default: "text", choices: ["text", "json"]),
    ]
) { args in
    let directory = args.value("catalog")!
    let new: Catalog
    do { new = try Catalog.load(directory: directory) } catch {
        CommandLineRunner.printError("the changed catalog in \(directory) does not load:\n\(error)")
        return ExitCode.usage
    }
    let pool = args.value("database-url").map { ConnectionPool(url: $0, maxConnections: 2) }
    defer { pool?.close() }
    let old: Catalog
    let against: String
    if let dir = args.value("against") {
        do { old = try Catalog.load(directory: dir) } catch {
            CommandLineRunner.printError("the catalog in use in \(dir) does not load:\n\(error)")
            return ExitCode.usage
        }
        against = dir
    } else if let pool {
        guard let snapshot = try CatalogSnapshots.latest(pool) else {
            throw UsageError("the database holds no catalog yet (no hub has started on it): give --against DIR")
        }
        old = try CatalogSnapshots.catalog(from: snapshot.files)
        against = "the catalog the hub last started with"
    } else {
        throw UsageError("give --against DIR (the catalog in use) or --database-url URL")
    }
    let published = try pool.map { try MappingVersionStore(pool: $0).newest() } ?? [:]
    let mappings = CatalogCheck.mappingTexts(folder: args.value("mappings")!, published: published)
    let findings = try CatalogCheck(old: old, new: new, mappings: mappings, pool: pool).run()
    let breaking = findings.filter(\.breaking).count
    if args.value("format") == "json" {
        print("{\"breaking\":\(breaking),\"notes\":\(findings.count - breaking),\"changes\":[" + findings.map(\.json).joined(separator: ",") + "]}")
    } else {
        print("\(directory) against \(against): \(breaking) breaking change(s), \(findings.count - breaking) note(s)")
        for finding in findings { print(finding.line) }
    }
    return breaking > 0 ? ExitCode.failure : ExitCode.success
}
