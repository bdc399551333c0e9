import Foundation
import JSON5
import Store
import Telemetry

/// A change event with its record indexed and its sources parsed once, shared by every
/// subscriber it is projected for.
///
/// The record is kept as its JSON bytes with a `RecordText` index (projection copies plain
/// fields' text from it); a record the index refuses is parsed as before.
public struct ParsedChange: Sendable {
    public let position: Int64
    public let resource: String
    public let entityID: String
    public let version: Int
    /// `created`, `updated` or `deleted`.
    public let operation: String
    public let changedFields: [String]
    public let time: Date
    /// `time` as ISO 8601 (the CloudEvent's `time`), formatted once per event.
    let isoTime: String
    /// The record's bytes, indexed; nil when the index refused them (then `parsedRecord` holds
    /// the parser's answer).
    let text: RecordText?
    let parsedRecord: JSONObject?
    /// The sources array's elements.
    public let sources: [JSONValue]

    /// The record after the change (nil if it did not parse as an object).
    public var record: JSONObject? { text?.object ?? parsedRecord }

    /// Parses a change as read from the log.
    public init(_ event: ChangeEvent) {
        self.init(event, isoTime: Timestamp.iso8601(event.time))
    }

    /// Changes as read from the log; events committed together share their time, formatted once.
    public static func parse(_ events: some Collection<ChangeEvent>) -> [ParsedChange] {
        var out: [ParsedChange] = []
        out.reserveCapacity(events.count)
        var last: (Date, String)?
        for e in events {
            let iso: String
            if let last, last.0 == e.time { iso = last.1 } else { iso = Timestamp.iso8601(e.time); last = (e.time, iso) }
            out.append(ParsedChange(e, isoTime: iso))
        }
        return out
    }

    init(_ event: ChangeEvent, isoTime: String) {
        self.init(position: event.position, resource: event.resource, entityID: event.entityID, version: event.version,
                  operation: event.operation, changedFields: event.changedFields, time: event.time, isoTime: isoTime,
                  recordBytes: event.recordBytes, sourcesBytes: event.sourcesBytes)
    }

    /// Parses a change from its parts (`record` and `sources` as JSON text).
    public init(position: Int64, resource: String, entityID: String, version: Int, operation: String,
                changedFields: [String], time: Date, record: String, sources: String) {
        self.init(position: position, resource: resource, entityID: entityID, version: version, operation: operation,
                  changedFields: changedFields, time: time, isoTime: Timestamp.iso8601(time),
                  recordBytes: Array(record.utf8), sourcesBytes: Array(sources.utf8))
    }

    init(position: Int64, resource: String, entityID: String, version: Int, operation: String,
         changedFields: [String], time: Date, isoTime: String, recordBytes: [UInt8], sourcesBytes: [UInt8]) {
        self.position = position
        self.resource = resource
        self.entityID = entityID
        self.version = version
        self.operation = operation
        self.changedFields = changedFields
        self.time = time
        self.isoTime = isoTime
        if let text = RecordText(recordBytes) {
            self.text = text
            parsedRecord = nil
        } else {
            text = nil
            if case .object(let object)? = try? JSON5.parseJSON(recordBytes) { parsedRecord = object } else { parsedRecord = nil }
        }
        if sourcesBytes.elementsEqual("[]".utf8) {
            sources = []
        } else if case .array(let list)? = try? JSON5.parseJSON(sourcesBytes) {
            sources = list
        } else {
            sources = []
        }
    }

    /// The same change with its record parsed the old way (no index): the reference path.
    func withoutIndex() -> ParsedChange {
        guard let text else { return self }
        return ParsedChange(copying: self, parsed: (try? JSON5.parseJSON(text.bytes))?.objectValue)
    }

    private init(copying c: ParsedChange, parsed: JSONObject?) {
        position = c.position
        resource = c.resource
        entityID = c.entityID
        version = c.version
        operation = c.operation
        changedFields = c.changedFields
        time = c.time
        isoTime = c.isoTime
        text = nil
        parsedRecord = parsed
        sources = c.sources
    }
}
