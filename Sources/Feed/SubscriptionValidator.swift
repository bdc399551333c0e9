import Catalog
import Foundation

/// Checks a subscription spec against the catalog and reports every problem at once.
public struct SubscriptionValidator: Sendable {
    public let catalog: Catalog

    public init(catalog: Catalog) { self.catalog = catalog }

    /// The spec with names normalized to the catalog's spelling, or every problem found.
    public func validate(_ spec: SubscriptionSpec) throws(SubscriptionInvalid) -> SubscriptionSpec {
        var problems: [SubscriptionProblem] = []
        var out = spec
        let name = spec.name?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if name.isEmpty { problems.append(.init("name", "is required")) }
        else if name.count > 200 { problems.append(.init("name", "is longer than 200 characters")) }
        else if name.utf8.contains(0) { problems.append(.init("name", "holds a NUL character")) }
        out.name = name
        let purpose = spec.purpose?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if purpose.isEmpty {
            problems.append(.init("purpose", "is required: the legal basis recorded with every disclosure"))
        } else if purpose.count > 500 {
            problems.append(.init("purpose", "is longer than 500 characters"))
        } else if purpose.utf8.contains(0) {
            problems.append(.init("purpose", "holds a NUL character"))
        }
        out.purpose = purpose

        // Resources, by their catalog spelling.
        var resources: [Resource] = []
        if let names = spec.resources, !names.isEmpty {
            for (i, given) in names.enumerated() {
                guard let r = resource(given) else {
                    problems.append(.init("resources[\(i)]", "'\(given)' is not a resource of the catalog"))
                    continue
                }
                if resources.contains(where: { $0.name == r.name }) {
                    problems.append(.init("resources[\(i)]", "'\(r.name)' is listed twice"))
                } else {
                    resources.append(r)
                }
            }
        } else {
            problems.append(.init("resources", "name at least one catalog resource"))
        }
        out.resources = resources.map(\.name)

        // Field lists.
        var fields: [String: [String]] = [:]
        for (given, list) in (spec.fields ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let r = resources.first(where: { $0.name.caseInsensitiveCompare(given) == .orderedSame }) else {
                problems.append(.init("fields[\"\(given)\"]", "'\(given)' is not one of the subscription's resources"))
                continue
            }
            if list.isEmpty { problems.append(.init("fields[\"\(given)\"]", "lists no fields; leave the resource out to get all its fields")) }
            var names: [String] = []
            for (i, fieldName) in list.enumerated() {
                guard let field = r.field(fieldName) else {
                    problems.append(.init("fields[\"\(given)\"][\(i)]", "'\(fieldName)' is not a field of \(r.name)"))
                    continue
                }
                if field.sharing == .notShared {
                    problems.append(.init("fields[\"\(given)\"][\(i)]", "\(r.name).\(fieldName) is not shared (catalog sharing type not_shared)"))
                    continue
                }
                if !names.contains(fieldName) { names.append(fieldName) }
            }
            fields[r.name] = names
        }
        out.fields = fields.isEmpty ? nil : fields

        // Area.
        let area = spec.area ?? []
        for (i, prefix) in area.enumerated() {
            if !(2...12).contains(prefix.utf8.count) || !prefix.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                problems.append(.init("area[\(i)]", "a division-code prefix is 2 to 12 digits"))
            }
        }
        if !area.isEmpty {
            for r in resources where Self.areaFields(of: r).isEmpty {
                problems.append(.init("area", "\(r.name) has no division-code field, so an area-limited subscription cannot receive it"))
            }
        }
        out.area = area.isEmpty ? nil : area

        // Masking.
        var masking: [String: String] = [:]
        for (key, policyText) in (spec.masking ?? [:]).sorted(by: { $0.key < $1.key }) {
            let path = "masking[\"\(key)\"]"
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                problems.append(.init(path, "name a field as Resource.field"))
                continue
            }
            guard let policy = FieldPolicy(rawValue: policyText) else {
                problems.append(.init(path, "must be one of plain, masked, pseudonymized, omitted"))
                continue
            }
            guard let r = resources.first(where: { $0.name.caseInsensitiveCompare(parts[0]) == .orderedSame }) else {
                problems.append(.init(path, "'\(parts[0])' is not one of the subscription's resources"))
                continue
            }
            guard let field = r.field(parts[1]) else {
                problems.append(.init(path, "'\(parts[1])' is not a field of \(r.name)"))
                continue
            }
            if let list = fields[r.name], !list.contains(field.name) {
                problems.append(.init(path, "\(r.name).\(field.name) is not among the subscription's fields"))
                continue
            }
            if field.sharing == .notShared && policy != .omitted {
                problems.append(.init(path, "\(r.name).\(field.name) is not shared (catalog sharing type not_shared)"))
                continue
            }
            masking[r.name + "." + field.name] = policy.rawValue
        }
        out.masking = masking.isEmpty ? nil : masking

        // Delivery.
        var delivery = spec.delivery ?? SubscriptionSpec.Delivery(mode: "pull")
        switch delivery.mode ?? "pull" {
        case "pull":
            if delivery.caFile != nil {
                problems.append(.init("delivery.ca_file", "only a webhook subscription uses a certificate authority file"))
            }
            delivery = SubscriptionSpec.Delivery(mode: "pull")
        case "webhook":
            let url = delivery.url ?? ""
            if !(url.hasPrefix("http://") || url.hasPrefix("https://")) || URL(string: url)?.host == nil {
                problems.append(.init("delivery.url", "a webhook subscription needs an http:// or https:// URL"))
            }
            for (i, secret) in (delivery.secrets ?? []).enumerated() where WebhookSigner.secretBytes(secret) == nil {
                problems.append(.init("delivery.secrets[\(i)]", "a signing secret is whsec_ followed by base64 of 24 to 64 bytes"))
            }
            if delivery.secrets?.isEmpty ?? true { delivery.secrets = [WebhookSigner.newSecret()] }
            if let caFile = delivery.caFile {
                if !url.hasPrefix("https://") {
                    problems.append(.init("delivery.ca_file", "only an https:// webhook URL uses a certificate authority file"))
                } else if !caFile.hasPrefix("/") {
                    problems.append(.init("delivery.ca_file", "must be an absolute path on the hub's machines"))
                } else if !FileManager.default.isReadableFile(atPath: caFile) {
                    problems.append(.init("delivery.ca_file", "the hub cannot read this file"))
                }
            }
        default:
            problems.append(.init("delivery.mode", "must be pull or webhook"))
        }
        out.delivery = delivery

        if let status = spec.status, status != "active", status != "paused" {
            problems.append(.init("status", "must be active or paused"))
        }
        guard problems.isEmpty else { throw SubscriptionInvalid(problems: problems) }
        return out
    }

    private func resource(_ name: String) -> Resource? {
        catalog.resources.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// The fields that place a record of `resource` in an area: its division-code fields (for a
    /// Person the current community and the registered division).
    public static func areaFields(of resource: Resource) -> [String] {
        resource.fields.filter { $0.type == .code(table: "division") }.map(\.name)
    }
}
