import Foundation
import JSON5

/// Loads a catalog folder and checks it as a whole.
///
/// Layout (all JSON5):
/// - `catalog.json5`: `{ departments: [{ id, name: { zh, en } }], resources: ['Person', ...] }`
///   (the resource list fixes the order of the documentation and must match the resource files);
/// - `resources/*.json5`: one resource per file (see ``ResourceFileReader``);
/// - `codes/*.json5`: one code table per file (see ``CodeTableFileReader``).
///
/// Every problem in every file is collected; the load fails with all of them at once.
struct CatalogLoader {
    let directory: String

    func load() throws(CatalogLoadError) -> Catalog {
        var problems: [CatalogProblem] = []

        let catalogFile = path("catalog.json5")
        var departments: [Department] = []
        var resourceOrder: [(String, SourcePosition)] = []
        if let root = parse(catalogFile, &problems) {
            var reader = NodeReader(file: catalogFile)
            if reader.object(root, path: "") != nil {
                reader.checkKeys(root, allowed: ["departments", "resources"], path: "")
                departments = readDepartments(root, &reader)
                resourceOrder = reader.stringArray(root, "resources", path: "") ?? []
            }
            problems += reader.problems
        }

        var tables: [CodeTable] = []
        var tablePositions: [String: (file: String, position: SourcePosition)] = [:]
        for file in listJSON5("codes", &problems) {
            guard let root = parse(file, &problems) else { continue }
            var reader = CodeTableFileReader(file: file)
            if let table = reader.read(root) {
                if let first = tablePositions[table.name] {
                    problems.append(CatalogProblem(file: file, position: root["table"]?.position, path: "table",
                                                   message: "code table '\(table.name)' is already defined in \(first.file):\(first.position.line)"))
                } else {
                    tablePositions[table.name] = (file, root["table"]?.position ?? root.position)
                    tables.append(table)
                }
            }
            problems += reader.reader.problems
        }
        tables.sort { $0.name < $1.name }

        var resources: [Resource] = []
        for file in listJSON5("resources", &problems) {
            guard let root = parse(file, &problems) else { continue }
            var reader = ResourceFileReader(file: file)
            if let resource = reader.read(root) {
                if let first = resources.first(where: { $0.name == resource.name }) {
                    problems.append(CatalogProblem(file: file, position: resource.position, path: "resource",
                                                   message: "resource '\(resource.name)' is already defined in \(first.file):\(first.position?.line ?? 0)"))
                } else {
                    resources.append(resource)
                }
            }
            problems += reader.reader.problems
        }

        // Order resources as catalog.json5 lists them; every file listed, every listed name a file.
        var ordered: [Resource] = []
        for (name, position) in resourceOrder {
            if let resource = resources.first(where: { $0.name == name }) {
                if !ordered.contains(where: { $0.name == name }) { ordered.append(resource) }
            } else {
                problems.append(CatalogProblem(file: catalogFile, position: position, path: "resources",
                                               message: "resource '\(name)' is listed but no file in resources/ defines it"))
            }
        }
        for resource in resources where !resourceOrder.contains(where: { $0.0 == resource.name }) {
            problems.append(CatalogProblem(file: resource.file, position: resource.position, path: "resource",
                                           message: "resource '\(resource.name)' is not listed in catalog.json5 'resources'"))
            ordered.append(resource)
        }

        let catalog = Catalog(departments: departments, resources: ordered, codeTables: tables)
        problems += CatalogChecker(catalog: catalog).problems()
        if !problems.isEmpty {
            throw CatalogLoadError(problems: problems.sorted {
                ($0.file, $0.position?.line ?? 0, $0.position?.column ?? 0) < ($1.file, $1.position?.line ?? 0, $1.position?.column ?? 0)
            })
        }
        return catalog
    }

    func path(_ relative: String) -> String {
        directory.hasSuffix("/") ? directory + relative : directory + "/" + relative
    }

    /// The `.json5` files of a subfolder, sorted by name.
    func listJSON5(_ folder: String, _ problems: inout [CatalogProblem]) -> [String] {
        let dir = path(folder)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            problems.append(CatalogProblem(file: dir, position: nil, path: "", message: "folder is missing or unreadable"))
            return []
        }
        return names.filter { $0.hasSuffix(".json5") }.sorted().map { "\(dir)/\($0)" }
    }

    func parse(_ file: String, _ problems: inout [CatalogProblem]) -> JSONNode? {
        guard let data = FileManager.default.contents(atPath: file) else {
            problems.append(CatalogProblem(file: file, position: nil, path: "", message: "file is missing or unreadable"))
            return nil
        }
        do {
            return try JSON5.parseDocument([UInt8](data), file: file)
        } catch {
            problems.append(CatalogProblem(file: file, position: error.position, path: "", message: error.message))
            return nil
        }
    }

    func readDepartments(_ root: JSONNode, _ reader: inout NodeReader) -> [Department] {
        guard let member = root.member("departments") else {
            reader.problem(root.position, "", "missing required key 'departments'")
            return []
        }
        guard let items = member.value.arrayValue else {
            reader.problem(member.value.position, "departments", "expected an array, found \(member.value.kindName)")
            return []
        }
        var out: [Department] = []
        for (i, item) in items.enumerated() {
            let p = "departments[\(i)]"
            guard reader.object(item, path: p) != nil else { continue }
            reader.checkKeys(item, allowed: ["id", "name"], path: p)
            guard let id = reader.string(item, "id", path: p), let name = reader.localized(item, "name", path: p) else { continue }
            if out.contains(where: { $0.id == id }) {
                reader.problem(item["id"]?.position, "\(p).id", "department '\(id)' is listed twice")
                continue
            }
            if !id.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) }) {
                reader.problem(item["id"]?.position, "\(p).id", "department id must be lowercase letters, digits and '-'")
            }
            out.append(Department(id: id, name: name))
        }
        return out
    }
}
