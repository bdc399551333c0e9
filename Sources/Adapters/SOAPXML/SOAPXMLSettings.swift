import Foundation
import JSON5

/// The settings of a `soap-xml` pull.
///
/// ```json5
/// pull: {
///   kind: "soap-xml", every: "1m",
///   url: "http://si.example/ws/PersonInsurance",
///   action: "queryPersonInsurance",                 // SOAPAction header
///   envelope: "<soap:Envelope ...><si:since>{checkpoint}</si:since><si:pageSize>{pageSize}</si:pageSize>...",
///   namespaces: { si: "http://si.example.gov.cn/ws" },
///   records: "//si:AC01",                           // XPath of the record elements
///   checkpointField: "si:AAE036",                   // XPath, relative to a record, of its change stamp
///   pageSize: 500,
///   initialCheckpoint: "0",
/// }
/// ```
///
/// The service is asked for the records changed after `{checkpoint}`, `{pageSize}` at a time; the
/// largest `checkpointField` value of a page is the next checkpoint (keyset paging: nothing moves
/// under the cursor). A page with fewer than `pageSize` records, or `more` evaluating false,
/// ends the run.
struct SOAPXMLSettings: Sendable {
    var url: String
    var action: String?
    /// The request envelope with `{checkpoint}` and `{pageSize}` placeholders (XML-escaped when filled).
    var envelope: String
    var namespaces: [(String, String)]
    var records: String
    var checkpointField: String
    /// XPath (boolean) telling whether more pages follow; by default a full page means more.
    var more: String?
    var pageSize: Int
    var initialCheckpoint: String
    /// Optional projection: field name -> XPath relative to a record. When set, each page is
    /// sent on as a JSON array of objects with these fields (for a mapping with `format: "json"`)
    /// instead of the SOAP answer as received.
    var fields: [(String, String)]
    var http: HTTPPullOptions

    static let keys: Set<String> = HTTPPullOptions.settingKeys.union(
        ["url", "action", "envelope", "envelopeFile", "namespaces", "records", "checkpointField", "more", "pageSize", "initialCheckpoint", "fields"])

    static func read(_ settings: inout PullSettingsReader, baseDirectory: String?) -> SOAPXMLSettings? {
        let url = settings.string("url", required: true)
        if let url { checkURLSetting(url, path: settings.path("url"), settings: &settings, node: settings.root["url"]) }
        let action = settings.string("action")
        var envelope = settings.string("envelope")
        if let file = settings.string("envelopeFile") {
            if envelope != nil {
                settings.problem(settings.root["envelopeFile"], settings.path("envelopeFile"), "give envelope or envelopeFile, not both")
            } else if let baseDirectory {
                let path = resolvePath(file, base: baseDirectory)
                if let data = FileManager.default.contents(atPath: path) {
                    envelope = String(decoding: data, as: UTF8.self)
                } else {
                    settings.problem(settings.root["envelopeFile"], settings.path("envelopeFile"), "cannot read \(path)")
                }
            }
        } else if envelope == nil {
            settings.problem(nil, settings.path("envelope"), "missing (the SOAP request envelope, or envelopeFile)")
        }
        if let envelope {
            let names = PullTemplate.placeholders(envelope)
            if !names.contains("checkpoint") {
                settings.problem(settings.root["envelope"], settings.path("envelope"), "has no {checkpoint} placeholder: every run would read everything")
            }
            for name in names where name != "checkpoint" && name != "pageSize" {
                settings.problem(settings.root["envelope"], settings.path("envelope"), "unknown placeholder {\(name)} (checkpoint, pageSize)")
            }
            let probe = PullTemplate.fill(envelope, ["checkpoint": "0", "pageSize": "1"], escape: { $0 })
            do {
                _ = try XPathDocument(bytes: Array(probe.utf8), namespaces: [])
            } catch {
                settings.problem(settings.root["envelope"] ?? settings.root["envelopeFile"], settings.path("envelope"),
                                 "is not well-formed XML (line \(error.line): \(error.message))")
            }
        }
        let namespaces = settings.stringMap("namespaces")
        let records = settings.string("records", required: true)
        let checkpointField = settings.string("checkpointField", required: true)
        let more = settings.string("more")
        for (key, expression) in [("records", records), ("checkpointField", checkpointField), ("more", more)] {
            if let expression, !XPathDocument.compiles(expression) {
                settings.problem(settings.root[key], settings.path(key), "is not a valid XPath 1.0 expression")
            }
        }
        let fields = settings.stringMap("fields")
        for (name, expression) in fields where !XPathDocument.compiles(expression) {
            settings.problem(settings.root["fields"]?[name], settings.path("fields.\(name)"), "is not a valid XPath 1.0 expression")
        }
        let pageSize = settings.int("pageSize", default: 500, in: 1...100_000)
        let initial = settings.string("initialCheckpoint") ?? ""
        let http = HTTPPullOptions.read(&settings)
        guard let url, let envelope, let records, let checkpointField else { return nil }
        return SOAPXMLSettings(url: url, action: action, envelope: envelope, namespaces: namespaces, records: records,
                               checkpointField: checkpointField, more: more, pageSize: pageSize,
                               initialCheckpoint: initial, fields: fields, http: http)
    }
}
