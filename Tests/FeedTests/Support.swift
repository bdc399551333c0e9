import Catalog
import Feed
import Foundation

/// The repository's real catalog (mappings/catalog), loaded once.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

let realCatalog: Catalog = try! Catalog.load(directory: repositoryRoot + "/mappings/catalog")

/// A validated subscription built from a spec, with a fixed pseudonym key.
func subscription(_ spec: SubscriptionSpec, id: String = "sub_test", key: [UInt8] = Array(repeating: 7, count: 32)) throws -> Subscription {
    let valid = try SubscriptionValidator(catalog: realCatalog).validate(spec)
    return Subscription(id: id, spec: valid, status: .active, pseudonymKey: key, createdAt: Date(), updatedAt: Date())
}

func projector(_ spec: SubscriptionSpec, previous: [String: String] = [:]) throws -> EventProjector {
    let s = try subscription(spec)
    return EventProjector(scope: SubscriptionScope(s, catalog: realCatalog)) { _, id, version in
        guard let text = previous["\(id)#\(version)"] else { return nil }
        return try JSON5Helper.object(text)
    }
}

import JSON5
enum JSON5Helper {
    static func object(_ text: String) throws -> JSONObject? { try JSON5.parseJSON(text).objectValue }
}

func change(_ position: Int64, _ record: String, resource: String = "Person", id: String = "e1", version: Int = 1,
            operation: String = "created", changed: [String]? = nil, sources: String = "[]") -> ParsedChange {
    let fields = changed ?? (try? JSON5.parseJSON(record).objectValue?.keys) ?? []
    return ParsedChange(position: position, resource: resource, entityID: id, version: version, operation: operation,
                        changedFields: fields ?? [], time: Date(timeIntervalSince1970: 1_790_000_000), record: record, sources: sources)
}

/// The CloudEvent of a projection, decoded.
func decoded(_ event: ProjectedEvent?) throws -> [String: Any]? {
    guard let event else { return nil }
    return try JSONSerialization.jsonObject(with: Data(event.json.utf8)) as? [String: Any]
}

let personRecord = """
{"citizen_id":"11010519491231002X","name":"张三丰","sex":"1","mobile":"13812345678","date_of_birth":"1949-12-31",
 "current_address":"四川省成都市成华区猛追湾街道望平街12号3栋","community_code":"510108001001","registered_division":"510108002003",
 "political_status":"01","ethnic_group":"01"}
"""
