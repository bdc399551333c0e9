import JSON5

/// Reads a JSON document: an array of records, a single record object, or (with `recordsPath`)
/// the array found at a path inside an envelope such as a paged API answer (`data.items`).
///
/// A top-level array is walked element by element, so the records before a syntax error are
/// still delivered, followed by the error with its line and column.
public final class JSONRecordReader: SourceRecordReader {
    private let bytes: [UInt8]
    private let file: String
    private let recordsPath: [String]
    private let keyField: String?
    private var state: State = .start
    private var offset = 0
    private var line = 1
    private var lineCountedTo = 0
    private var index = 0
    private var pending = ItemQueue()
    private var stacks = StrictJSONParser.Scratch()
    /// The records array sits inside an envelope object (`recordsPath`).
    private var insideEnvelope = false

    private enum State { case start, inArray, done }

    /// - Parameters:
    ///   - recordsPath: dotted member path to the records array inside an object (empty: the document).
    ///   - keyField: top-level member whose scalar value is the record's source key.
    public init(source: ByteSource, recordsPath: String? = nil, keyField: String? = nil) {
        bytes = source.readToEnd()
        file = source.name
        self.recordsPath = recordsPath.map { $0.split(separator: ".").map(String.init) } ?? []
        self.keyField = keyField
        if let failure = source.failure {
            pending.append(.error(SourceFormatError(.io, at: SourceLocator(file: file), "read failed: \(failure)")))
        }
    }

    public func next() -> SourceReadItem? {
        if let item = pending.pop() { return item }
        switch state {
        case .done: return nil
        case .start: return start()
        case .inArray: return nextElement()
        }
    }

    private func start() -> SourceReadItem? {
        return bytes.withUnsafeBufferPointer { buffer -> SourceReadItem? in
            var parser = JSONRecordScan.parser(buffer)
            if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { parser.index = 3 }
            parser.skipWhitespace()
            guard parser.index < buffer.count else {
                state = .done
                return nil
            }
            if recordsPath.isEmpty, buffer[parser.index] == UInt8(ascii: "[") {
                parser.index += 1
                offset = parser.index
                state = .inArray
                return nextElement()
            }
            if !recordsPath.isEmpty {
                return startInEnvelope(&parser, buffer)
            }
            state = .done
            do throws(ParseFailure) {
                let value = try parser.parseValue()
                parser.skipWhitespace()
                if parser.index < buffer.count {
                    throw ParseFailure(offset: parser.index, message: "unexpected characters after the JSON value")
                }
                return items(from: SourceValue(value))
            } catch {
                return syntaxItem(error, buffer)
            }
        }
    }

    /// Walks the envelope to the records without parsing anything else, then reads the records
    /// one by one as in a top-level array (a fault inside one record refuses only that record).
    private func startInEnvelope(_ parser: inout StrictJSONParser, _ buffer: UnsafeBufferPointer<UInt8>) -> SourceReadItem? {
        typealias SyntaxError = ParseFailure
        state = .done
        do throws(SyntaxError) {
            for (depth, name) in recordsPath.enumerated() {
                let notFound = SourceReadItem.error(SourceFormatError(.notAnObject, at: SourceLocator(file: file),
                    "records path '\(recordsPath[...depth].joined(separator: "."))' not found in the document"))
                guard parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "{") else { return notFound }
                parser.index += 1
                var found = false
                members: while true {
                    parser.skipWhitespace()
                    guard parser.index < buffer.count else { throw SyntaxError(offset: parser.index, message: "unexpected end of input inside an object") }
                    if buffer[parser.index] == UInt8(ascii: "}") { break }
                    guard buffer[parser.index] == UInt8(ascii: "\"") else { throw SyntaxError(offset: parser.index, message: "expected a quoted member name") }
                    let key = try parser.parseString()
                    parser.skipWhitespace()
                    guard parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: ":") else {
                        throw SyntaxError(offset: parser.index, message: "expected ':' after a member name")
                    }
                    parser.index += 1
                    parser.skipWhitespace()
                    if key == name { found = true; break }
                    guard parser.skipValue() else { throw SyntaxError(offset: parser.index, message: "unexpected end of input inside an object") }
                    parser.skipWhitespace()
                    guard parser.index < buffer.count else { throw SyntaxError(offset: parser.index, message: "unexpected end of input inside an object") }
                    switch buffer[parser.index] {
                    case UInt8(ascii: ","): parser.index += 1
                    case UInt8(ascii: "}"): break members
                    default: throw SyntaxError(offset: parser.index, message: "expected ',' or '}' in an object")
                    }
                }
                if !found { return notFound }
            }
            if parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "[") {
                parser.index += 1
                offset = parser.index
                state = .inArray
                insideEnvelope = true
                return nextElement()
            }
            return items(of: SourceValue(try parser.parseValue()))
        } catch {
            return syntaxItem(error, buffer)
        }
    }

    /// The records of a whole parsed document: follow `recordsPath`, then an array or one object.
    private func items(from document: SourceValue) -> SourceReadItem? {
        var value = document
        for (depth, name) in recordsPath.enumerated() {
            guard case .object(let object) = value, let inner = object[name] else {
                let path = recordsPath[...depth].joined(separator: ".")
                return .error(SourceFormatError(.notAnObject, at: SourceLocator(file: file), "records path '\(path)' not found in the document"))
            }
            value = inner
        }
        return items(of: value)
    }

    /// An array of records or one record.
    private func items(of value: SourceValue) -> SourceReadItem? {
        switch value {
        case .array(let elements):
            for (i, element) in elements.enumerated() {
                pending.append(item(for: element, locator: SourceLocator(file: file, index: i)))
            }
            return pending.pop()
        case .object:
            return item(for: value, locator: SourceLocator(file: file, line: 1, index: 0))
        default:
            return .error(SourceFormatError(.notAnObject, at: SourceLocator(file: file), "expected an array of records or one record object"))
        }
    }

    private func nextElement() -> SourceReadItem? {
        return bytes.withUnsafeBufferPointer { buffer -> SourceReadItem? in
            var parser = JSONRecordScan.parser(buffer, at: offset)
            swap(&parser.scratch, &stacks)
            defer { swap(&parser.scratch, &stacks) }
            parser.skipWhitespace()
            do throws(ParseFailure) {
                guard parser.index < buffer.count else {
                    throw ParseFailure(offset: parser.index, message: "unexpected end of input, the records array is not closed")
                }
                if buffer[parser.index] == UInt8(ascii: "]") {
                    parser.index += 1
                    parser.skipWhitespace()
                    state = .done
                    // In an envelope, what follows the records array is the rest of the envelope.
                    if parser.index < buffer.count, !insideEnvelope {
                        throw ParseFailure(offset: parser.index, message: "unexpected text after the records array")
                    }
                    return nil
                }
                if index > 0 {
                    guard buffer[parser.index] == UInt8(ascii: ",") else {
                        throw ParseFailure(offset: parser.index, message: "expected ',' or ']' between records")
                    }
                    parser.index += 1
                    parser.skipWhitespace()
                }
                let elementStart = parser.index
                let value: SourceValue
                do throws(ParseFailure) {
                    value = SourceValue(try parser.parseValue())
                } catch where error.kind != .syntax {
                    // Refuse this record only: step over it and go on with the next.
                    parser.index = elementStart
                    guard parser.skipValue() else { throw error }
                    offset = parser.index
                    let locator = SourceLocator(file: file, line: lineNumber(at: elementStart, buffer), index: index)
                    index += 1
                    if error.kind == .tooDeep {
                        return .error(SourceFormatError(.tooDeep, at: locator, "record nests deeper than \(JSONRecordScan.maxDepth) levels"))
                    }
                    let column = TextPosition.lineColumn(of: error.offset, in: buffer).column
                    return .error(JSONRecordScan.recordError(error, at: locator, column: column))
                }
                offset = parser.index
                let locator = SourceLocator(file: file, line: lineNumber(at: elementStart, buffer), index: index)
                index += 1
                return item(for: value, locator: locator)
            } catch {
                state = .done
                return syntaxItem(error, buffer)
            }
        }
    }

    private func lineNumber(at target: Int, _ buffer: UnsafeBufferPointer<UInt8>) -> Int {
        while lineCountedTo < target {
            if buffer[lineCountedTo] == 0x0A { line += 1 }
            lineCountedTo += 1
        }
        return line
    }

    private func syntaxItem(_ error: ParseFailure, _ buffer: UnsafeBufferPointer<UInt8>) -> SourceReadItem {
        state = .done
        let (l, c) = TextPosition.lineColumn(of: error.offset, in: buffer)
        return .error(SourceFormatError(.invalidJSON, at: SourceLocator(file: file, line: l), column: c, "invalid JSON: \(error.message)"))
    }

    private func item(for value: SourceValue, locator: SourceLocator) -> SourceReadItem {
        guard case .object(let object) = value else {
            return .error(SourceFormatError(.notAnObject, at: locator, "record is not a JSON object"))
        }
        return .record(SourceRecord(fields: object, locator: locator, sourceKey: keyField.flatMap { object[$0]?.scalarText }))
    }
}

/// The strict JSON scanner (JSON5 module) as the record readers use it: a shallower depth limit,
/// repeated keys kept, and faults turned into positioned error items.
enum JSONRecordScan {
    /// Records nest far less than documents; deeper ones are refused as `tooDeep`.
    static let maxDepth = 256
    static let options = StrictJSONParser.Options(maxDepth: maxDepth, rejectsDuplicateKeys: false)

    static func parser(_ buffer: UnsafeBufferPointer<UInt8>, at offset: Int = 0) -> StrictJSONParser {
        StrictJSONParser(UnsafeRawBufferPointer(buffer), at: offset, options: options)
    }

    /// The error item for one record's syntax error: bad UTF-8 is an encoding fault, the rest invalid JSON.
    static func recordError(_ error: ParseFailure, at locator: SourceLocator, column: Int) -> SourceFormatError {
        let kind: SourceFormatError.Kind = error.kind == .encoding ? .encoding : .invalidJSON
        return SourceFormatError(kind, at: locator, column: column, "invalid JSON: \(error.message)")
    }
}

/// Line and column (1-based) of a byte offset, counted only when an error needs them.
enum TextPosition {
    static func lineColumn(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>, startLine: Int = 1) -> (line: Int, column: Int) {
        var line = startLine
        var lineStart = 0
        let end = min(offset, bytes.count)
        var i = 0
        while i < end {
            if bytes[i] == 0x0A { line += 1; lineStart = i + 1 }
            i += 1
        }
        return (line, end - lineStart + 1)
    }
}
