import Catalog
import Feed
import HTTP

/// `/v1/catalog`: the canonical catalog as data (resources, fields with their sensitivity,
/// sharing type and default disclosure policy, departments) and its code tables, for clients that
/// label codes or build grants (the console's district view and subscription form are two).
/// Any valid token may read it: it describes the data, it holds none.
struct CatalogRoutes {
    let catalog: Catalog
    let auth: Authenticator

    func register(on router: Router) {
        router.add(.GET, "/v1/catalog") { request in
            _ = try auth.principal(for: request)
            var w = JSONWriter()
            w.objects("departments", catalog.departments) { w, d in
                w.string("id", d.id)
                w.raw("name", Self.localized(d.name))
            }
            w.objects("resources", catalog.resources) { w, r in
                w.string("name", r.name)
                w.raw("title", Self.localized(r.title))
                w.strings("identity_key", r.identityKey)
                w.strings("division_fields", SubscriptionValidator.areaFields(of: r))
                w.objects("fields", r.fields) { w, f in
                    w.string("name", f.name)
                    w.string("type", f.type.description)
                    w.raw("required", f.required ? "true" : "false")
                    w.string("sensitivity", f.sensitivity.rawValue)
                    w.string("sharing", f.sharing.rawValue)
                    w.string("masking", f.masking?.rawValue)
                    w.string("default_policy", FieldPolicy.leastPrivilege(for: f).rawValue)
                    w.strings("authorities", f.authorities)
                    w.raw("description", Self.localized(f.description))
                }
            }
            w.strings("code_tables", catalog.codeTables.map(\.name))
            return .jsonText(w.json)
        }
        router.add(.GET, "/v1/catalog/codes/{table}") { request in
            _ = try auth.principal(for: request)
            let name = try Query.path(request, "table")
            guard let table = catalog.codeTable(name) else { throw HTTPError.notFound("no code table '\(name)' in the catalog") }
            var w = JSONWriter()
            w.string("table", table.name)
            w.raw("title", Self.localized(table.title))
            w.string("source", table.source)
            w.objects("codes", table.entries) { w, e in
                w.string("code", e.code)
                w.string("label", e.label)
                w.string("en", e.english)
            }
            return .jsonText(w.json)
        }
    }

    static func localized(_ text: LocalizedText) -> String {
        var w = JSONWriter()
        w.string("zh", text.zh)
        w.string("en", text.en)
        return w.json
    }
}
