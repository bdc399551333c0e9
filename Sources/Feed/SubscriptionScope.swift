import Catalog
import Foundation

/// A subscription compiled against the catalog: per resource, each field's policy, the area
/// fields, and the pseudonym key. Built once per subscription and reused for every event.
public struct SubscriptionScope: Sendable {
    /// What the subscriber may see of one resource. A class: every event projected looks its
    /// resource's scope up, and copying a struct of six references retained each of them.
    public final class ResourceScope: Sendable {
        public let name: String
        /// The CloudEvents type segment (`Person` -> `person`, `SubsistenceAllowance` -> `subsistence_allowance`).
        public let typeName: String
        /// Policy per field name; a field not in here (not granted, or unknown to the catalog) is omitted.
        public let policies: [String: (policy: FieldPolicy, field: Field)]
        /// Division-code fields that place a record in the area.
        public let areaFields: [String]
        /// The disclosed fields by their names' UTF-8 (projection on record bytes).
        let table: FieldTable
        /// The names of the fields disclosed under any policy but omitted (`discloses`, asked
        /// for every changed field of every event: without copying a catalog `Field`).
        let disclosed: Set<String>
        /// `typeName.` and `name/` as JSON string content: every CloudEvent's type and subject start so.
        let typeSegment: [UInt8]
        let subjectPrefix: [UInt8]

        init(name: String, typeName: String, policies: [String: (policy: FieldPolicy, field: Field)], areaFields: [String]) {
            self.name = name
            self.typeName = typeName
            self.policies = policies
            self.areaFields = areaFields
            table = FieldTable(policies)
            disclosed = Set(policies.filter { $0.value.policy != .omitted }.keys)
            var type: [UInt8] = []
            JSONBuilder.quoteContent(typeName, into: &type)
            typeSegment = type + [UInt8(ascii: ".")]
            var subject: [UInt8] = []
            JSONBuilder.quoteContent(name, into: &subject)
            subjectPrefix = subject + [UInt8(ascii: "/")]
        }

        /// Whether the subscriber sees something of `field` (any policy but omitted).
        public func discloses(_ field: String) -> Bool { disclosed.contains(field) }
    }

    public let subscriptionID: String
    public let purpose: String
    public let resources: [String: ResourceScope]
    /// Division-code prefixes; empty for the whole hub.
    public let area: [String]
    public let pseudonymKey: [UInt8]

    public init(_ subscription: Subscription, catalog: Catalog) {
        subscriptionID = subscription.id
        purpose = subscription.purpose
        area = subscription.spec.area ?? []
        pseudonymKey = subscription.pseudonymKey
        var resources: [String: ResourceScope] = [:]
        for name in subscription.spec.resources ?? [] {
            guard let resource = catalog.resource(name) else { continue }
            let listed = subscription.spec.fields?[name].map(Set.init)
            var policies: [String: (FieldPolicy, Field)] = [:]
            for field in resource.fields {
                if let listed, !listed.contains(field.name) { continue }
                var policy = subscription.spec.masking?[name + "." + field.name].flatMap(FieldPolicy.init(rawValue:))
                    ?? FieldPolicy.leastPrivilege(for: field)
                if field.sharing == .notShared { policy = .omitted }
                policies[field.name] = (policy, field)
            }
            resources[name] = ResourceScope(name: name, typeName: Self.snakeCase(name), policies: policies,
                                            areaFields: SubscriptionValidator.areaFields(of: resource))
        }
        self.resources = resources
    }

    /// `SubsistenceAllowance` -> `subsistence_allowance`.
    static func snakeCase(_ name: String) -> String {
        var out = ""
        for (i, c) in name.enumerated() {
            if c.isUppercase && i > 0 { out.append("_") }
            out.append(contentsOf: c.lowercased())
        }
        return out
    }

    /// Whether a division code is inside the area (always true without an area).
    public func inArea(_ code: String) -> Bool {
        area.isEmpty || area.contains { code.hasPrefix($0) }
    }
}

/// The fields a subscriber sees of one resource, looked up by the UTF-8 bytes of an ASCII key
/// without a String or hashing: buckets by length, compared with memcmp. (Records have a few
/// dozen fields; this runs for every member of every event caught up on.)
final class FieldTable: Sendable {
    /// A class: looked up for every member of every record projected, and a reference is one
    /// retain where a struct copy retained its name and type.
    final class Rule: Sendable {
        let name: String
        let policy: FieldPolicy
        let masking: MaskingHint?
        let type: FieldType

        init(name: String, policy: FieldPolicy, masking: MaskingHint?, type: FieldType) {
            self.name = name
            self.policy = policy
            self.masking = masking
            self.type = type
        }
    }

    struct Entry: Sendable {
        let key: [UInt8]
        let rule: Rule
    }

    private let byLength: [[Entry]]
    /// False when a field name is not ASCII: then a key's bytes are not enough to find it (an
    /// ASCII key can equal such a name canonically) and every key is looked up as a String.
    let isASCII: Bool

    init(_ policies: [String: (policy: FieldPolicy, field: Field)]) {
        isASCII = policies.keys.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
        var byLength: [[Entry]] = []
        for (name, p) in policies where p.policy != .omitted && name.utf8.allSatisfy({ $0 < 0x80 }) {
            let key = Array(name.utf8)
            while byLength.count <= key.count { byLength.append([]) }
            byLength[key.count].append(Entry(key: key, rule: Rule(name: name, policy: p.policy, masking: p.field.masking, type: p.field.type)))
        }
        self.byLength = byLength
    }

    /// The rule of the field named by these ASCII bytes, nil when the subscriber does not see it.
    func rule(_ key: UnsafeRawBufferPointer) -> Rule? {
        guard !key.isEmpty, key.count < byLength.count else { return nil }
        for e in byLength[key.count] {
            if e.key.withUnsafeBytes({ memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0 }) { return e.rule }
        }
        return nil
    }
}
