import JSON5

/// Reads one resource file:
///
/// ```json5
/// {
///   resource: 'Person',
///   title: { zh: '人口', en: 'Person' },
///   description: { zh: '...', en: '...' },
///   identityKey: ['citizen_id'],
///   fields: [
///     { name: 'citizen_id', type: 'string', required: true, sensitivity: 'sensitive',
///       sharing: 'conditional', authorities: ['police'], identifier: 'citizen_id',
///       masking: 'id_number', description: { zh: '公民身份号码', en: 'Citizen identity number' } },
///   ],
/// }
/// ```
///
/// Field keys: `name`, `type` (string, code(TABLE), date, datetime, integer, decimal, boolean,
/// reference(RESOURCE)), `required` (default false), `sensitivity` (public, internal, sensitive,
/// special), `sharing` (unconditional, conditional, not_shared), `authorities` (ranked department
/// ids), `description`, optional `identifier` (citizen_id, uscc, mobile, landline, phone, disability_certificate) and
/// `masking` (id_number, mobile, name, address, suppress).
struct ResourceFileReader {
    var reader: NodeReader

    init(file: String) { reader = NodeReader(file: file) }

    static let resourceKeys = ["resource", "title", "description", "identityKey", "fields", "matching"]
    static let fieldKeys = ["name", "type", "required", "sensitivity", "sharing", "authorities", "description",
                            "identifier", "masking"]

    mutating func read(_ root: JSONNode) -> Resource? {
        guard reader.object(root, path: "") != nil else { return nil }
        reader.checkKeys(root, allowed: Self.resourceKeys, path: "")
        guard let name = reader.string(root, "resource", path: "") else { return nil }
        if !(name.first?.isUppercase ?? false) || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            reader.problem(root["resource"]?.position, "resource", "resource names are UpperCamelCase ASCII (Person, SocialInsuranceEnrollment)")
        }
        let title = reader.localized(root, "title", path: name)
        let description = reader.localized(root, "description", path: name)
        let key = reader.stringArray(root, "identityKey", path: name) ?? []
        if root.member("identityKey") != nil, key.isEmpty {
            reader.problem(root["identityKey"]?.position, "\(name).identityKey", "identity key needs at least one field")
        }
        var fields: [Field] = []
        if let member = root.member("fields") {
            if let items = member.value.arrayValue {
                for (i, item) in items.enumerated() {
                    if let field = readField(item, resource: name, index: i) {
                        if let first = fields.first(where: { $0.name == field.name }) {
                            reader.problem(item["name"]?.position, "\(name).fields.\(field.name)",
                                           "duplicate field '\(field.name)' (first defined at line \(first.position?.line ?? 0))")
                        } else {
                            fields.append(field)
                        }
                    }
                }
            } else {
                reader.problem(member.value.position, "\(name).fields", "expected an array of fields, found \(member.value.kindName)")
            }
        } else {
            reader.problem(root.position, name, "missing required key 'fields'")
        }
        for (keyField, position) in key where !fields.contains(where: { $0.name == keyField }) {
            reader.problem(position, "\(name).identityKey", "identity key field '\(keyField)' is not a field of \(name)")
        }
        var resource = Resource(name: name, title: title ?? LocalizedText(zh: name, en: name),
                                description: description ?? LocalizedText(zh: "", en: ""),
                                identityKey: key.map(\.0), fields: fields, file: reader.file,
                                position: root["resource"]?.position ?? root.position)
        if let node = root["matching"] { resource.matching = readMatching(node, resource: name) }
        return resource
    }

    static let matchingKeys = ["blocking", "rules", "nameVariants"]
    static let ruleKeys = ["field", "compare", "weight"]

    /// `matching: { blocking: [[field, ...], ...], rules: [{ field, compare, weight }], nameVariants }`.
    mutating func readMatching(_ node: JSONNode, resource: String) -> MatchRules? {
        let path = "\(resource).matching"
        guard reader.object(node, path: path) != nil else { return nil }
        reader.checkKeys(node, allowed: Self.matchingKeys, path: path)
        var blocking: [MatchRules.Blocking] = []
        if let list = node["blocking"]?.arrayValue, !list.isEmpty {
            for (i, item) in list.enumerated() {
                guard let parts = item.arrayValue, !parts.isEmpty, parts.allSatisfy({ $0.stringValue != nil }) else {
                    reader.problem(item.position, "\(path).blocking[\(i)]", "a blocking key is a non-empty array of field names")
                    continue
                }
                blocking.append(MatchRules.Blocking(fields: parts.compactMap(\.stringValue), position: item.position))
            }
        } else {
            reader.problem(node["blocking"]?.position ?? node.position, "\(path).blocking", "needs at least one blocking key (an array of field-name arrays)")
        }
        var rules: [MatchRules.Rule] = []
        if let list = node["rules"]?.arrayValue, !list.isEmpty {
            for (i, item) in list.enumerated() {
                let rulePath = "\(path).rules[\(i)]"
                guard reader.object(item, path: rulePath) != nil else { continue }
                reader.checkKeys(item, allowed: Self.ruleKeys, path: rulePath)
                let field = reader.string(item, "field", path: rulePath)
                let comparison = reader.choice(item, "compare", path: rulePath, as: MatchRules.Comparison.self, required: false) ?? .exact
                var weight: Double?
                if let w = item["weight"] {
                    if let n = w.numberText.flatMap(Double.init), n > 0, n <= 1 { weight = n } else {
                        reader.problem(w.position, "\(rulePath).weight", "a weight is a number above 0 and at most 1")
                    }
                } else {
                    reader.problem(item.position, rulePath, "missing required key 'weight'")
                }
                if let field, let weight { rules.append(MatchRules.Rule(field: field, comparison: comparison, weight: weight, position: item.position)) }
            }
        } else {
            reader.problem(node["rules"]?.position ?? node.position, "\(path).rules", "needs at least one scoring rule")
        }
        let variants = reader.string(node, "nameVariants", path: path, required: false)
        return MatchRules(blocking: blocking, rules: rules, nameVariants: variants, position: node.position)
    }

    mutating func readField(_ node: JSONNode, resource: String, index: Int) -> Field? {
        var path = "\(resource).fields[\(index)]"
        guard reader.object(node, path: path) != nil else { return nil }
        guard let name = reader.string(node, "name", path: path) else { return nil }
        path = "\(resource).fields.\(name)"
        reader.checkKeys(node, allowed: Self.fieldKeys, path: path)
        if !name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "_") }) {
            reader.problem(node["name"]?.position, "\(path).name", "field names are snake_case ASCII")
        }
        var type: FieldType?
        if let spelling = reader.string(node, "type", path: path) {
            type = FieldType(spelling: spelling)
            if type == nil {
                reader.problem(node["type"]?.position, "\(path).type",
                               "unknown field type '\(spelling)' (expected string, code(TABLE), date, datetime, integer, decimal, boolean or reference(RESOURCE))")
            }
        }
        let required = reader.bool(node, "required", path: path) ?? false
        let sensitivity = reader.choice(node, "sensitivity", path: path, as: Sensitivity.self)
        let sharing = reader.choice(node, "sharing", path: path, as: SharingType.self)
        let authorities = reader.stringArray(node, "authorities", path: path) ?? []
        let description = reader.localized(node, "description", path: path)
        let identifier = reader.choice(node, "identifier", path: path, as: IdentifierRule.self, required: false)
        let masking = reader.choice(node, "masking", path: path, as: MaskingHint.self, required: false)
        guard let type, let sensitivity, let sharing, let description else { return nil }
        var field = Field(name: name, type: type, required: required, sensitivity: sensitivity, sharing: sharing,
                          authorities: authorities.map(\.0), description: description, identifierRule: identifier,
                          masking: masking, position: node.position)
        field.partPositions = Field.PartPositions(type: node["type"]?.position, authorities: authorities.map(\.1),
                                                  identifier: node["identifier"]?.position)
        return field
    }
}
