/// One difference between the catalog in use and a changed one. Whether it breaks anything is
/// decided with what uses the catalog (`CatalogUsage`): mappings, subscription grants, stored values.
public struct CatalogChange: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case resourceRemoved = "resource_removed"
        case fieldRemoved = "field_removed"
        case codeRemoved = "code_removed"
        case codeTableRemoved = "code_table_removed"
        case identityKeyChanged = "identity_key_changed"
        case typeNarrowed = "type_narrowed"
        case becameRequired = "field_became_required"
        case departmentRemoved = "department_removed"
        case resourceAdded = "resource_added"
        case fieldAdded = "field_added"
        case codeAdded = "code_added"
        case typeWidened = "type_widened"
        case departmentAdded = "department_added"
    }

    public var kind: Kind
    public var resource: String?
    public var field: String?
    public var table: String?
    public var code: String?
    public var department: String?
    /// What changed, in words (names of resources, fields, codes; never record values).
    public var message: String

    public init(_ kind: Kind, resource: String? = nil, field: String? = nil, table: String? = nil, code: String? = nil,
                department: String? = nil, message: String) {
        self.kind = kind
        self.resource = resource
        self.field = field
        self.table = table
        self.code = code
        self.department = department
        self.message = message
    }
}

/// Compares two catalogs, in the manner of a schema registry's backward-compatibility check:
/// removals, narrowed types and changed identity keys may break what was built on the old
/// catalog; additions and widened types do not.
public enum CatalogCompatibility {
    /// Every difference between `old` and `new`, resources first, then code tables, then departments.
    public static func changes(from old: Catalog, to new: Catalog) -> [CatalogChange] {
        var out: [CatalogChange] = []
        for resource in old.resources {
            guard let changed = new.resource(resource.name) else {
                out.append(CatalogChange(.resourceRemoved, resource: resource.name, message: "resource \(resource.name) is removed"))
                continue
            }
            if resource.identityKey != changed.identityKey {
                out.append(CatalogChange(.identityKeyChanged, resource: resource.name,
                                         message: "the identity key of \(resource.name) changes from [\(resource.identityKey.joined(separator: ", "))] to [\(changed.identityKey.joined(separator: ", "))]"))
            }
            let added = changed.fields.filter { resource.field($0.name) == nil }
            for field in resource.fields {
                guard let now = changed.field(field.name) else {
                    // A field of the same type added at the same time is probably its new name.
                    let renamed = added.first { $0.type == field.type }.map { " (renamed to \($0.name)?)" } ?? ""
                    out.append(CatalogChange(.fieldRemoved, resource: resource.name, field: field.name,
                                             message: "field \(resource.name).\(field.name) is removed\(renamed)"))
                    continue
                }
                if now.type != field.type {
                    let kind: CatalogChange.Kind = widens(from: field.type, to: now.type) ? .typeWidened : .typeNarrowed
                    out.append(CatalogChange(kind, resource: resource.name, field: field.name,
                                             message: "field \(resource.name).\(field.name) changes type from \(field.type) to \(now.type)"))
                }
                if now.required && !field.required {
                    out.append(CatalogChange(.becameRequired, resource: resource.name, field: field.name,
                                             message: "field \(resource.name).\(field.name) becomes required"))
                }
            }
            for field in added {
                out.append(CatalogChange(.fieldAdded, resource: resource.name, field: field.name,
                                         message: "field \(resource.name).\(field.name) is added (\(field.required ? "required" : "optional"))"))
            }
        }
        for resource in new.resources where old.resource(resource.name) == nil {
            out.append(CatalogChange(.resourceAdded, resource: resource.name, message: "resource \(resource.name) is added"))
        }
        for table in old.codeTables {
            guard let changed = new.codeTable(table.name) else {
                out.append(CatalogChange(.codeTableRemoved, table: table.name, message: "code table \(table.name) is removed"))
                continue
            }
            let now = Set(changed.entries.map(\.code))
            for entry in table.entries where !now.contains(entry.code) {
                out.append(CatalogChange(.codeRemoved, table: table.name, code: entry.code,
                                         message: "code '\(entry.code)' is removed from table \(table.name)"))
            }
            let before = Set(table.entries.map(\.code))
            for entry in changed.entries where !before.contains(entry.code) {
                out.append(CatalogChange(.codeAdded, table: table.name, code: entry.code,
                                         message: "code '\(entry.code)' is added to table \(table.name)"))
            }
        }
        let newDepartments = Set(new.departments.map(\.id))
        let oldDepartments = Set(old.departments.map(\.id))
        for department in old.departments where !newDepartments.contains(department.id) {
            out.append(CatalogChange(.departmentRemoved, department: department.id, message: "department \(department.id) is removed"))
        }
        for department in new.departments where !oldDepartments.contains(department.id) {
            out.append(CatalogChange(.departmentAdded, department: department.id, message: "department \(department.id) is added"))
        }
        return out
    }

    /// Whether every value of type `old` is also a valid value of type `new`.
    public static func widens(from old: FieldType, to new: FieldType) -> Bool {
        switch (old, new) {
        case (.integer, .decimal): true
        case (_, .string): true
        default: false
        }
    }
}
