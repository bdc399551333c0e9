/// A problem with source input, with its position. Its description never contains field values.
public struct SourceFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem it is (a stable code for grouping and tests).
    public enum Kind: String, Sendable {
        case io = "source.io"
        case invalidJSON = "source.json.invalid"
        case notAnObject = "source.json.not_object"
        case raggedRow = "source.csv.ragged_row"
        case unterminatedQuote = "source.csv.unterminated_quote"
        case badHeader = "source.csv.header"
        case encoding = "source.encoding"
        case notWellFormedXML = "source.xml.not_well_formed"
        case documentType = "source.xml.doctype"
        case invalidXPath = "source.xml.xpath"
        case recordTooLarge = "source.record_too_large"
        case tooDeep = "value.too_deep"
    }

    public var kind: Kind
    public var locator: SourceLocator
    /// Column (1-based byte offset in the line) when known.
    public var column: Int?
    /// What is wrong, without any value from the record.
    public var message: String

    public init(_ kind: Kind, at locator: SourceLocator, column: Int? = nil, _ message: String) {
        self.kind = kind
        self.locator = locator
        self.column = column
        self.message = message
    }

    public var description: String {
        var position = locator.description
        if let column, locator.path == nil, locator.index == nil, locator.line != nil { position += ":\(column)" }
        return "\(position): \(message)"
    }
}
