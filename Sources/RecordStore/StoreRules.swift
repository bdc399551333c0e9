/// What the record store needs to know about each canonical resource: how identities are keyed,
/// the order fields are written in, and which departments are authorities for each field.
/// Built from the catalog by the hub; by hand in tests.
public struct StoreRules: Sendable {
    public struct Resource: Sendable {
        public var name: String
        /// Identity key fields, in order; their values joined by "|" form the entity's key.
        public var identityKey: [String]
        /// Fields in catalog order (golden records list them in this order).
        public var fieldOrder: [String]
        /// Ranked departments per field (empty or missing: every department ranks equally).
        public var authorities: [String: [String]]

        public init(name: String, identityKey: [String], fieldOrder: [String], authorities: [String: [String]]) {
            self.name = name
            self.identityKey = identityKey
            self.fieldOrder = fieldOrder
            self.authorities = authorities
        }
    }

    public var resources: [String: Resource]
    /// Per resource with match rules in the catalog, its matcher (records without a usable key).
    public var matchers: [String: Matcher] = [:]

    public init(resources: [Resource]) {
        self.resources = Dictionary(resources.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The key string of an identity (values in the resource's key order, joined by "|").
    public func identityKey(resource: String, identity: [String: String]) -> String? {
        guard let r = resources[resource] else { return nil }
        var parts: [String] = []
        for field in r.identityKey {
            guard let value = identity[field], !value.isEmpty else { return nil }
            parts.append(value)
        }
        return parts.joined(separator: "|")
    }
}

import Catalog

extension StoreRules {
    /// The store's rules for every resource of the catalog.
    public init(catalog: Catalog) {
        self.init(resources: catalog.resources.map { resource in
            Resource(name: resource.name, identityKey: resource.identityKey, fieldOrder: resource.fields.map(\.name),
                     authorities: Dictionary(resource.fields.map { ($0.name, $0.authorities) }, uniquingKeysWith: { a, _ in a }))
        })
        for resource in catalog.resources {
            if let rules = resource.matching { matchers[resource.name] = Matcher(rules: rules, catalog: catalog) }
        }
    }
}
