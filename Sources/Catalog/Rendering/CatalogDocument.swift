import Foundation

/// docs/catalog.md: a hand-written introduction followed by a part generated from the catalog data.
///
/// The generated part sits between ``beginMarker`` and ``endMarker``; everything outside the
/// markers is kept as written. `recordonce catalog --update-docs docs/catalog.md` rewrites it,
/// and a test fails when the file in the repository is out of date.
public enum CatalogDocument {
    public static let beginMarker = "<!-- BEGIN GENERATED: recordonce catalog --update-docs docs/catalog.md (do not edit below) -->"
    public static let endMarker = "<!-- END GENERATED -->"

    /// The document with its generated part replaced (appended when the markers are missing).
    public static func updating(_ document: String, with catalog: Catalog) -> String {
        let generated = beginMarker + "\n\n" + markdown(catalog) + "\n" + endMarker
        guard let begin = document.range(of: beginMarker),
              let end = document.range(of: endMarker, range: begin.upperBound..<document.endIndex)
        else {
            let trimmed = document.hasSuffix("\n") || document.isEmpty ? document : document + "\n"
            return trimmed + (trimmed.isEmpty ? "" : "\n") + generated + "\n"
        }
        return String(document[..<begin.lowerBound]) + generated + String(document[end.upperBound...])
    }

    /// The generated reference: departments, resources with their fields, code tables.
    public static func markdown(_ catalog: Catalog) -> String {
        var out = "## Departments\n\n| id | 名称 | Name |\n|---|---|---|\n"
        for department in catalog.departments {
            out += "| `\(department.id)` | \(cell(department.name.zh)) | \(cell(department.name.en)) |\n"
        }
        out += "\n## Resources\n\n| Resource | 名称 | Identity key | Fields |\n|---|---|---|---|\n"
        for resource in catalog.resources {
            out += "| [\(resource.name)](#\(resource.name.lowercased())) | \(cell(resource.title.zh)) | "
                + resource.identityKey.map { "`\($0)`" }.joined(separator: " + ") + " | \(resource.fields.count) |\n"
        }
        for resource in catalog.resources {
            out += "\n### \(resource.name)\n\n"
            out += "\(resource.title.zh) / \(resource.title.en). \(resource.description.en) \(resource.description.zh)\n\n"
            out += "Identity key: " + resource.identityKey.map { "`\($0)`" }.joined(separator: " + ") + ". "
            out += "Defined in `\(relativeFile(resource.file))`.\n\n"
            if let m = resource.matching {
                let blocks: [String] = m.blocking.map { b in "(" + b.fields.map { "`\($0)`" }.joined(separator: ", ") + ")" }
                let rules: [String] = m.rules.map { r in "`\(r.field)` \(r.comparison.rawValue) \(r.weight)" }
                var line = "Matching (records without a usable key, in matchable mappings): blocking on "
                line += blocks.joined(separator: " and ") + "; scoring " + rules.joined(separator: ", ")
                if let table = m.nameVariants { line += "; name variants from code table `\(table)`" }
                out += line + ".\n\n"
            }
            out += "| Field | Type | Req. | Sensitivity | Sharing | Authorities (rank order) | Rule / masking | 说明 | Description |\n"
            out += "|---|---|---|---|---|---|---|---|---|\n"
            for field in resource.fields {
                var rules: [String] = []
                if let rule = field.identifierRule { rules.append("rule `\(rule.rawValue)`") }
                if let masking = field.masking { rules.append("mask `\(masking.rawValue)`") }
                let type: String
                switch field.type {
                case .code(let table): type = "[`code(\(table))`](#code-\(table))"
                case .reference(let target): type = "[`reference(\(target))`](#\(target.lowercased()))"
                default: type = "`\(field.type)`"
                }
                out += "| `\(field.name)` | \(type) | \(field.required ? "yes" : "") | \(field.sensitivity.rawValue) | "
                    + "\(field.sharing.rawValue) | \(field.authorities.joined(separator: " > ")) | \(rules.joined(separator: ", ")) | "
                    + "\(cell(field.description.zh)) | \(cell(field.description.en)) |\n"
            }
        }
        out += "\n## Code tables\n"
        for table in catalog.codeTables {
            out += "\n### code: \(table.name)\n\n"
            out += "\(table.title.zh) / \(table.title.en). Source: \(cell(table.source)). \(table.entries.count) codes, "
            out += "defined in `\(relativeFile(table.file))`.\n\n"
            let long = table.entries.count > 40
            if long { out += "<details><summary>Show the \(table.entries.count) codes</summary>\n\n" }
            out += "| Code | 名称 | Label |\n|---|---|---|\n"
            for entry in table.entries {
                out += "| `\(entry.code)` | \(cell(entry.label)) | \(cell(entry.english ?? "")) |\n"
            }
            if long { out += "\n</details>\n" }
        }
        return out
    }

    /// `.../mappings/catalog/resources/person.json5` -> `mappings/catalog/resources/person.json5`.
    static func relativeFile(_ file: String) -> String {
        if let range = file.range(of: "mappings/catalog/") { return String(file[range.lowerBound...]) }
        return file
    }

    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
