import Catalog
import CLIKit
import Foundation

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
    arguments: [Argument("name", help: "A resource or code table name.", optional: true)]
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
