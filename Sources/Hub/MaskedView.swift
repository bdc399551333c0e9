import Catalog
import Feed
import JSON5

/// A golden record as the least-privilege grant would show it (`?view=masked` on the record
/// reads): sensitive fields masked by their display convention or left out, so an admin can find
/// the right record without disclosing more than needed. The full record is a separate, audited read.
struct MaskedView {
    /// The record JSON with each field under `FieldPolicy.leastPrivilege`, and the fields it still shows.
    static func apply(record json: String, resource: Resource) -> (record: String, fields: [String], masked: [String]) {
        guard let object = (try? JSON5.parseJSON(json))?.objectValue else { return ("{}", [], []) }
        var out = JSONObject()
        var masked: [String] = []
        for member in object {
            // A field the catalog does not know is shown as an unknown sensitive one: left out.
            guard let field = resource.field(member.key) else { continue }
            switch FieldPolicy.leastPrivilege(for: field) {
            case .plain:
                out.members.append(member)
            case .masked, .pseudonymized:
                let text = member.value.stringValue ?? member.value.numberText ?? member.value.jsonText()
                let value: JSONValue = member.value.isNull ? .null : .string(ValueMasking.mask(text, hint: field.masking, type: field.type))
                out.members.append(JSONObject.Member(key: member.key, value: value))
                masked.append(member.key)
            case .omitted:
                masked.append(member.key)
            }
        }
        return (JSONValue.object(out).jsonText(), out.keys, masked)
    }
}

extension MaskedView {
    /// Provenance with every `source_key` masked (a department's key is often an ID number).
    static func provenance(_ json: String) -> String {
        guard let value = try? JSON5.parseJSON(json) else { return "{}" }
        return maskSourceKeys(value).jsonText()
    }

    private static func maskSourceKeys(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            return .object(JSONObject(object.members.map { member in
                if member.key == "source_key", let text = member.value.stringValue {
                    return JSONObject.Member(key: member.key, value: .string(ValueMasking.mask(text, hint: .idNumber, type: .string)))
                }
                return JSONObject.Member(key: member.key, value: maskSourceKeys(member.value))
            }))
        case .array(let items):
            return .array(items.map(maskSourceKeys))
        default:
            return value
        }
    }
}
