import JSON5
import Store

/// A change event with its record and sources parsed once, shared by every subscriber it is
/// projected for.
public struct ParsedChange: Sendable {
    public let event: ChangeEvent
    /// The record after the change (nil if it did not parse as an object).
    public let record: JSONObject?
    /// The sources array's elements.
    public let sources: [JSONValue]

    public init(_ event: ChangeEvent) {
        self.event = event
        if case .object(let object)? = try? JSON5.parseJSON(event.record) { record = object } else { record = nil }
        if case .array(let list)? = try? JSON5.parseJSON(event.sources) { sources = list } else { sources = [] }
    }
}
