/// A JSON value with the position of every part, for configuration files whose errors must point at a line.
public struct JSONNode: Sendable, Hashable {
    /// Where the value starts (its first character).
    public var position: SourcePosition
    public var kind: Kind

    public init(position: SourcePosition, kind: Kind) {
        self.position = position
        self.kind = kind
    }

    /// The same cases as ``JSONValue``, with positioned children.
    public enum Kind: Sendable, Hashable {
        case null
        case bool(Bool)
        case number(String)
        case string(String)
        case array([JSONNode])
        case object([Member])
    }

    /// An object member: the key keeps its own position (where the key was written).
    public struct Member: Sendable, Hashable {
        public var key: String
        public var keyPosition: SourcePosition
        public var value: JSONNode

        public init(key: String, keyPosition: SourcePosition, value: JSONNode) {
            self.key = key
            self.keyPosition = keyPosition
            self.value = value
        }
    }

    /// The plain value, positions dropped.
    public var value: JSONValue {
        switch kind {
        case .null: .null
        case .bool(let b): .bool(b)
        case .number(let t): .number(t)
        case .string(let s): .string(s)
        case .array(let items): .array(items.map(\.value))
        case .object(let members): .object(JSONObject(members.map { JSONObject.Member(key: $0.key, value: $0.value.value) }))
        }
    }

    public var stringValue: String? { if case .string(let s) = kind { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = kind { b } else { nil } }
    public var numberText: String? { if case .number(let t) = kind { t } else { nil } }
    public var intValue: Int? { if case .number(let t) = kind { Int(t) } else { nil } }
    public var arrayValue: [JSONNode]? { if case .array(let a) = kind { a } else { nil } }
    public var members: [Member]? { if case .object(let m) = kind { m } else { nil } }
    public var isNull: Bool { if case .null = kind { true } else { false } }

    /// The member named `key` (with its key position) when this is an object.
    public func member(_ key: String) -> Member? {
        guard case .object(let members) = kind else { return nil }
        return members.first { $0.key == key }
    }

    /// The value of the member named `key` when this is an object.
    public subscript(key: String) -> JSONNode? { member(key)?.value }

    /// A short name of the kind of value, for messages ("string", "number", ...).
    public var kindName: String {
        switch kind {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
