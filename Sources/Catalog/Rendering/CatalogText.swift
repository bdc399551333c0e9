/// The catalog as aligned text for people (`recordonce catalog`).
public enum CatalogText {
    /// Tables with more codes than this are summarized in a resource listing.
    static let inlineCodeLimit = 40

    /// Every resource with its fields, then the list of code tables.
    public static func overview(_ catalog: Catalog) -> String {
        var out = "Departments: " + catalog.departments.map { "\($0.id) (\($0.name.zh))" }.joined(separator: ", ") + "\n"
        for resource in catalog.resources {
            out += "\n" + fieldListing(resource)
        }
        out += "\nCode tables (recordonce catalog TABLE shows the codes):\n"
        let width = catalog.codeTables.map(\.name.count).max() ?? 0
        for table in catalog.codeTables {
            out += "  \(pad(table.name, width))  \(table.entries.count) codes  \(table.title.zh) / \(table.title.en)  [\(table.source)]\n"
        }
        return out
    }

    /// One resource: its fields, then the codes of the code tables they use.
    public static func resource(_ resource: Resource, in catalog: Catalog) -> String {
        var out = fieldListing(resource)
        var shown = Set<String>()
        for field in resource.fields {
            guard let name = field.type.codeTable, shown.insert(name).inserted, let table = catalog.codeTable(name) else { continue }
            out += "\n"
            if table.entries.count > inlineCodeLimit {
                out += "\(table.name): \(table.title.zh) / \(table.title.en), \(table.entries.count) codes (recordonce catalog \(table.name))\n"
            } else {
                out += codeTable(table)
            }
        }
        return out
    }

    /// A code table with every code.
    public static func codeTable(_ table: CodeTable) -> String {
        var out = "\(table.name): \(table.title.zh) / \(table.title.en)  [\(table.source)]\n"
        let width = table.entries.map(\.code.count).max() ?? 0
        for entry in table.entries {
            out += "  \(pad(entry.code, width))  \(entry.label)"
            if let english = entry.english { out += "  (\(english))" }
            out += "\n"
        }
        return out
    }

    static func fieldListing(_ resource: Resource) -> String {
        var out = "\(resource.name) (\(resource.title.zh) / \(resource.title.en))  identity key: \(resource.identityKey.joined(separator: " + "))\n"
        out += "  \(resource.description.en)\n"
        let rows: [[String]] = resource.fields.map { field in
            var notes: [String] = []
            if let rule = field.identifierRule { notes.append("rule \(rule.rawValue)") }
            if let masking = field.masking { notes.append("mask \(masking.rawValue)") }
            return [
                field.name, field.type.description, field.required ? "required" : "optional",
                field.sensitivity.rawValue, field.sharing.rawValue, field.authorities.joined(separator: ">"),
                notes.joined(separator: ", "), "\(field.description.zh) / \(field.description.en)",
            ]
        }
        let header = ["field", "type", "required", "sensitivity", "sharing", "authorities", "rules", "description"]
        let all = [header] + rows
        let widths = (0..<header.count).map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            let cells = row.enumerated().map { $0.offset == row.count - 1 ? $0.element : pad($0.element, widths[$0.offset]) }
            out += "  " + cells.joined(separator: "  ") + "\n"
        }
        return out
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
