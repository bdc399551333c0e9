import JSON5

/// Checks that hold across files: types name existing code tables and resources, authorities are
/// known departments, identity keys are required, identifier rules fit their field types.
struct CatalogChecker {
    let catalog: Catalog

    func problems() -> [CatalogProblem] {
        var problems: [CatalogProblem] = []
        let departments = Set(catalog.departments.map(\.id))
        let known = catalog.departments.map(\.id).joined(separator: ", ")
        for resource in catalog.resources {
            func report(_ field: Field?, _ suffix: String, _ message: String, at position: SourcePosition? = nil) {
                let path = field.map { "\(resource.name).fields.\($0.name)\(suffix)" } ?? "\(resource.name)\(suffix)"
                problems.append(CatalogProblem(file: resource.file, position: position ?? field?.position ?? resource.position,
                                               path: path, message: message))
            }
            for name in resource.identityKey {
                if let field = resource.field(name), !field.required {
                    report(field, ".required", "identity key field '\(name)' must be required")
                }
            }
            if let matching = resource.matching {
                for block in matching.blocking {
                    for name in block.fields where resource.field(name) == nil {
                        report(nil, ".matching.blocking", "blocking field '\(name)' is not a field of \(resource.name)", at: block.position)
                    }
                }
                for rule in matching.rules where resource.field(rule.field) == nil {
                    report(nil, ".matching.rules", "scoring field '\(rule.field)' is not a field of \(resource.name)", at: rule.position)
                }
                if let table = matching.nameVariants, catalog.codeTable(table) == nil {
                    report(nil, ".matching.nameVariants", "code table '\(table)' does not exist (no file in codes/ defines it)", at: matching.position)
                }
            }
            for field in resource.fields {
                switch field.type {
                case .code(let table) where catalog.codeTable(table) == nil:
                    report(field, ".type", "code table '\(table)' does not exist (no file in codes/ defines it)",
                           at: field.partPositions.type)
                case .reference(let target) where catalog.resource(target) == nil:
                    report(field, ".type", "referenced resource '\(target)' does not exist", at: field.partPositions.type)
                case .reference(let target):
                    if let other = catalog.resource(target), other.identityKey.count != 1 {
                        report(field, ".type", "reference(\(target)) needs a single-field identity key; \(target) has \(other.identityKey.count)",
                               at: field.partPositions.type)
                    }
                default:
                    break
                }
                if field.authorities.isEmpty {
                    report(field, ".authorities", "a field needs at least one authoritative department")
                }
                var seen = Set<String>()
                for (index, authority) in field.authorities.enumerated() {
                    let position = field.partPositions.authorities.indices.contains(index) ? field.partPositions.authorities[index] : nil
                    if !departments.contains(authority) {
                        report(field, ".authorities[\(index)]", "'\(authority)' is not a known department (known: \(known))", at: position)
                    }
                    if !seen.insert(authority).inserted {
                        report(field, ".authorities[\(index)]", "'\(authority)' is ranked twice", at: position)
                    }
                }
                if field.identifierRule != nil {
                    switch field.type {
                    case .string, .reference: break
                    default: report(field, ".identifier", "identifier rules apply to string or reference fields, not \(field.type)",
                                    at: field.partPositions.identifier)
                    }
                }
            }
        }
        return problems
    }
}
