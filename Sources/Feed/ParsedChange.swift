import Foundation
import JSON5
import Store

/// A change event with its record and sources parsed once, shared by every subscriber it is
/// projected for.
public struct ParsedChange: Sendable {
    public let position: Int64
    public let resource: String
    public let entityID: String
    public let version: Int
    /// `created`, `updated` or `deleted`.
    public let operation: String
    public let changedFields: [String]
    public let time: Date
    /// The record after the change (nil if it did not parse as an object).
    public let record: JSONObject?
    /// The sources array's elements.
    public let sources: [JSONValue]

    /// Parses a change as read from the log.
    public init(_ event: ChangeEvent) {
        self.init(position: event.position, resource: event.resource, entityID: event.entityID, version: event.version,
                  operation: event.operation, changedFields: event.changedFields, time: event.time,
                  record: event.record, sources: event.sources)
    }

    /// Parses a change from its parts (`record` and `sources` as JSON text).
    public init(position: Int64, resource: String, entityID: String, version: Int, operation: String,
                changedFields: [String], time: Date, record: String, sources: String) {
        self.position = position
        self.resource = resource
        self.entityID = entityID
        self.version = version
        self.operation = operation
        self.changedFields = changedFields
        self.time = time
        if case .object(let object)? = try? JSON5.parseJSON(record) { self.record = object } else { self.record = nil }
        if case .array(let list)? = try? JSON5.parseJSON(sources) { self.sources = list } else { self.sources = [] }
    }
}
