/// One event as one subscriber may see it, rendered as a CloudEvents 1.0 JSON object.
public struct ProjectedEvent: Sendable {
    /// The feed position (also the CloudEvent id).
    public let position: Int64
    public let entityID: String
    /// `created`, `updated`, `deleted`, or `removed` (the entity left the subscriber's area).
    public let operation: String
    /// The fields whose values (plain, masked or pseudonymized) the event discloses.
    public let disclosedFields: [String]
    /// The CloudEvent as UTF-8 JSON (one line, no trailing newline): what pull pages and streams
    /// write to the wire, with no String in between.
    public let bytes: [UInt8]

    /// The CloudEvent as JSON text (one line, no trailing newline).
    public var json: String { String(decoding: bytes, as: UTF8.self) }
}
