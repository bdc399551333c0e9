import JSON5

/// The catalog as JSON (for `recordonce catalog --format json` and for tools).
public enum CatalogJSON {
    /// The whole catalog, or one resource with the code tables its fields use.
    public static func value(_ catalog: Catalog, resource name: String? = nil) -> JSONValue {
        let resources = name.map { n in catalog.resources.filter { $0.name == n } } ?? catalog.resources
        let tableNames = Set(resources.flatMap { $0.fields.compactMap(\.type.codeTable) })
        let tables = name == nil ? catalog.codeTables : catalog.codeTables.filter { tableNames.contains($0.name) }
        var root = JSONObject()
        if name == nil {
            root["departments"] = .array(catalog.departments.map { ["id": .string($0.id), "name": localized($0.name)] })
        }
        root["resources"] = .array(resources.map(resourceValue))
        root["codeTables"] = .array(tables.map(codeTableValue))
        return .object(root)
    }

    public static func resourceValue(_ resource: Resource) -> JSONValue {
        [
            "name": .string(resource.name),
            "title": localized(resource.title),
            "description": localized(resource.description),
            "identityKey": .array(resource.identityKey.map { .string($0) }),
            "fields": .array(resource.fields.map(fieldValue)),
        ]
    }

    public static func fieldValue(_ field: Field) -> JSONValue {
        var object: JSONObject = [
            "name": .string(field.name),
            "type": .string(field.type.description),
            "required": .bool(field.required),
            "sensitivity": .string(field.sensitivity.rawValue),
            "sharing": .string(field.sharing.rawValue),
            "authorities": .array(field.authorities.map { .string($0) }),
            "description": localized(field.description),
        ]
        if let rule = field.identifierRule { object["identifier"] = .string(rule.rawValue) }
        if let masking = field.masking { object["masking"] = .string(masking.rawValue) }
        return .object(object)
    }

    public static func codeTableValue(_ table: CodeTable) -> JSONValue {
        [
            "name": .string(table.name),
            "title": localized(table.title),
            "source": .string(table.source),
            "codes": .array(table.entries.map { entry in
                var object: JSONObject = ["code": .string(entry.code), "label": .string(entry.label)]
                if let english = entry.english { object["en"] = .string(english) }
                return .object(object)
            }),
        ]
    }

    static func localized(_ text: LocalizedText) -> JSONValue {
        ["zh": .string(text.zh), "en": .string(text.en)]
    }
}
