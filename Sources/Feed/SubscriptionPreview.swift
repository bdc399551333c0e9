import Foundation

/// What a subscription spec would disclose, before it is saved: the answer of
/// `POST /v1/subscriptions/preview`. Per resource, each catalog field and how it would be sent
/// (plain, masked, pseudonymized, omitted), the division fields that place records in the area,
/// and every validation problem of the spec (then nothing is previewed).
public enum SubscriptionPreview {
    public static func render(_ spec: SubscriptionSpec, validator: SubscriptionValidator) -> String {
        var w = JSONBuilder()
        let valid: SubscriptionSpec
        do {
            valid = try validator.validate(spec)
        } catch {
            w.raw("valid", "false")
            let problems = (error as (any Error) as? SubscriptionInvalid)?.problems ?? []
            w.raw("problems", "[" + problems.map { p in
                var o = JSONBuilder()
                o.string("path", p.path)
                o.string("message", p.message)
                return o.json
            }.joined(separator: ",") + "]")
            return w.json
        }
        let subscription = Subscription(id: "preview", spec: valid, status: .active, pseudonymKey: [],
                                        createdAt: Date(), updatedAt: Date())
        let scope = SubscriptionScope(subscription, catalog: validator.catalog)
        w.raw("valid", "true")
        w.raw("problems", "[]")
        w.strings("area", scope.area)
        w.string("mode", valid.delivery?.mode ?? "pull")
        var resources: [String] = []
        for name in valid.resources ?? [] {
            guard let resourceScope = scope.resources[name], let resource = validator.catalog.resource(name) else { continue }
            var r = JSONBuilder()
            r.string("resource", name)
            r.strings("area_fields", resourceScope.areaFields)
            r.raw("fields", "[" + resource.fields.map { field in
                var f = JSONBuilder()
                f.string("field", field.name)
                f.string("policy", (resourceScope.policies[field.name]?.policy ?? .omitted).rawValue)
                f.string("sensitivity", field.sensitivity.rawValue)
                return f.json
            }.joined(separator: ",") + "]")
            resources.append(r.json)
        }
        w.raw("resources", "[" + resources.joined(separator: ",") + "]")
        return w.json
    }
}
