import JSON5
import SourceFormats

extension SourceValue {
    /// A source value from a parsed JSON/JSON5 value (test cases write their input records in JSON5).
    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let n): self = .number(n)
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(SourceValue.init))
        case .object(let object): self = .object(SourceObject(object.members.map { ($0.key, SourceValue($0.value)) }))
        }
    }
}
