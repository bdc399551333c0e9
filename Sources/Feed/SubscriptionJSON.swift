import Foundation
import Telemetry

/// JSON renderings of subscriptions and audit entries for the API.
public enum SubscriptionJSON {
    /// A subscription; `token` (and the webhook signing secrets) only in the answer to its creation.
    public static func render(_ s: Subscription, token: String? = nil) -> String {
        var w = JSONBuilder()
        w.string("id", s.id)
        w.string("name", s.name)
        w.string("purpose", s.purpose)
        w.string("status", s.status.rawValue)
        w.strings("resources", s.spec.resources ?? [])
        if let fields = s.spec.fields {
            var f = JSONBuilder()
            for key in fields.keys.sorted() { f.strings(key, fields[key]!) }
            w.raw("fields", f.json)
        }
        w.strings("area", s.spec.area ?? [])
        var m = JSONBuilder()
        for (key, value) in (s.spec.masking ?? [:]).sorted(by: { $0.key < $1.key }) { m.string(key, value) }
        w.raw("masking", m.json)
        var d = JSONBuilder()
        d.string("mode", s.spec.delivery?.mode ?? "pull")
        if s.isWebhook {
            d.string("url", s.spec.delivery?.url)
            if let caFile = s.spec.delivery?.caFile { d.string("ca_file", caFile) }
            if token != nil { d.strings("secrets", s.spec.delivery?.secrets ?? []) }
            else { d.number("secret_count", s.spec.delivery?.secrets?.count ?? 0) }
        }
        w.raw("delivery", d.json)
        w.string("created_at", Timestamp.iso8601(s.createdAt))
        w.string("updated_at", Timestamp.iso8601(s.updatedAt))
        if let token { w.string("token", token) }
        return w.json
    }

    public static func render(_ r: AuditRecord) -> String {
        var w = JSONBuilder()
        w.number("id", r.id)
        w.string("time", Timestamp.iso8601(r.time))
        w.string("actor", r.entry.actor)
        w.string("purpose", r.entry.purpose)
        w.string("channel", r.entry.channel.rawValue)
        if let p = r.entry.firstPosition { w.number("first_position", p) } else { w.raw("first_position", "null") }
        if let p = r.entry.lastPosition { w.number("last_position", p) } else { w.raw("last_position", "null") }
        w.strings("entity_ids", r.entry.entityIDs)
        w.strings("fields", r.entry.fields)
        if let action = r.entry.action { w.string("action", action) }
        return w.json
    }
}
