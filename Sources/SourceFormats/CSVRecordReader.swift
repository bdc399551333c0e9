/// Options for reading a CSV file.
public struct CSVOptions: Sendable {
    /// Field separator (one ASCII character): `,` by default, `;`, `\t` and `|` are common.
    public var delimiter: UInt8
    /// The first row names the columns. Without a header, columns are named `1`, `2`, ...
    public var hasHeader: Bool
    /// Declared encoding; nil detects it (BOM, else valid UTF-8 -> UTF-8, else GB18030).
    public var encoding: TextEncoding?
    /// Column whose value is the record's source key.
    public var keyColumn: String?
    /// A record longer than this (bytes) is skipped with an error.
    public var maxRecordLength: Int

    public init(delimiter: UInt8 = UInt8(ascii: ","), hasHeader: Bool = true, encoding: TextEncoding? = nil,
                keyColumn: String? = nil, maxRecordLength: Int = 16 << 20) {
        self.delimiter = delimiter
        self.hasHeader = hasHeader
        self.encoding = encoding
        self.keyColumn = keyColumn
        self.maxRecordLength = maxRecordLength
    }
}

/// Reads CSV (RFC 4180: quoted fields may hold delimiters, quotes as `""`, and line breaks),
/// streamed in chunks. Fields are split on bytes first, then decoded: GB18030 never uses the bytes
/// of `,` `"` CR or LF inside a multi-byte character, so splitting before decoding is safe.
///
/// A row with the wrong number of fields, or bytes that are not valid in the file's encoding,
/// becomes an error item for that row (with its line); the other rows are still read.
public final class CSVRecordReader: SourceRecordReader {
    private let source: ByteSource
    private let file: String
    private let options: CSVOptions
    private var buffer: [UInt8] = []
    private var pos = 0
    private var exhausted = false
    private var line = 1
    private var header: [String]?
    private var keyIndex: Int?
    private var recordIndex = 0
    private var started = false
    private var finished = false
    /// The encoding in use (declared or detected once the first chunk is read).
    public private(set) var encoding: TextEncoding?
    private var encodingDetected = false

    public init(source: ByteSource, options: CSVOptions = CSVOptions()) {
        self.source = source
        self.file = source.name
        self.options = options
        self.encoding = options.encoding
    }

    public func next() -> SourceReadItem? {
        if finished { return nil }
        if !started {
            started = true
            fill()
            skipBOM()
            if options.hasHeader {
                let headerLine = line
                switch readRow() {
                case .end:
                    finished = true
                    return nil
                case .error(let e):
                    finished = true
                    return .error(e)
                case .row(let raw):
                    var names: [String] = []
                    for field in raw {
                        guard let name = decode(field) else {
                            finished = true
                            return .error(encodingError(SourceLocator(file: file, line: headerLine), what: "header row"))
                        }
                        names.append(trimASCII(name))
                    }
                    if let duplicate = firstDuplicate(names) {
                        finished = true
                        return .error(SourceFormatError(.badHeader, at: SourceLocator(file: file, line: headerLine), "header names column '\(duplicate)' twice"))
                    }
                    header = names
                }
            }
        }
        while true {
            let startLine = line
            let row = readRow()
            let locator = SourceLocator(file: file, line: startLine, index: recordIndex)
            switch row {
            case .end:
                finished = true
                if let failure = source.failure {
                    return .error(SourceFormatError(.io, at: SourceLocator(file: file, line: line), "read failed: \(failure)"))
                }
                return nil
            case .error(let e):
                recordIndex += 1
                return .error(e)
            case .row(let raw):
                if raw.count == 1 && raw[0].isEmpty { continue } // blank line
                recordIndex += 1
                if header == nil {
                    header = (1...raw.count).map(String.init)
                }
                let names = header!
                if raw.count != names.count {
                    return .error(SourceFormatError(.raggedRow, at: locator, "row has \(raw.count) fields, the header has \(names.count)"))
                }
                var object = SourceObject()
                object.reserveCapacity(names.count)
                for (i, field) in raw.enumerated() {
                    guard let text = decode(field) else {
                        return .error(encodingError(locator, what: "column '\(names[i])'"))
                    }
                    object.append(names[i], .string(text))
                }
                if keyIndex == nil, let key = options.keyColumn { keyIndex = names.firstIndex(of: key) ?? -1 }
                let sourceKey = keyIndex.flatMap { $0 >= 0 ? object.values[$0].scalarText : nil }
                return .record(SourceRecord(fields: object, locator: locator, sourceKey: sourceKey))
            }
        }
    }

    private func encodingError(_ locator: SourceLocator, what: String) -> SourceFormatError {
        let enc = encoding ?? .utf8
        var message = "\(what) is not valid \(enc == .utf8 ? "UTF-8" : "GB18030")"
        if options.encoding == .utf8 {
            message += " although the file is declared UTF-8; the file may be GB18030/GBK: declare encoding gb18030"
        } else if options.encoding == nil {
            message += " (encoding detected from the start of the file; declare the encoding if the file mixes encodings)"
        }
        return SourceFormatError(.encoding, at: locator, message)
    }

    private func decode(_ bytes: [UInt8]) -> String? {
        (encoding ?? .utf8).decode(bytes)
    }

    private func firstDuplicate(_ names: [String]) -> String? {
        var seen = Set<String>()
        for n in names where !seen.insert(n).inserted { return n }
        return nil
    }

    private func trimASCII(_ s: String) -> String {
        var sub = Substring(s)
        while let f = sub.first, f == " " || f == "\t" { sub.removeFirst() }
        while let l = sub.last, l == " " || l == "\t" { sub.removeLast() }
        return String(sub)
    }

    private func skipBOM() {
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) {
            pos = 3
            if encoding == nil { encoding = .utf8 }
        } else if buffer.starts(with: [0x84, 0x31, 0x95, 0x33]) {
            pos = 4
            if encoding == nil { encoding = .gb18030 }
        }
        if encoding == nil {
            encoding = TextEncoding.detect(sample: buffer[pos...], complete: exhausted)
            encodingDetected = true
        }
    }

    /// Reads more bytes; false at the end of the input.
    @discardableResult
    private func fill() -> Bool {
        if exhausted { return false }
        if pos > 0 && pos == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            pos = 0
        } else if pos > (1 << 16) {
            buffer.removeSubrange(0..<pos)
            pos = 0
        }
        if source.read(into: &buffer, maxCount: 1 << 16) == 0 {
            exhausted = true
            return false
        }
        return true
    }

    private enum Row {
        case row([[UInt8]])
        case error(SourceFormatError)
        case end
    }

    /// Splits the next record into raw fields (quotes removed). A record may span lines when a
    /// quoted field holds a line break.
    private func readRow() -> Row {
        if pos >= buffer.count && !fill() { return .end }
        let startLine = line
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        var inQuotes = false
        var quotedField = false
        var afterQuote = false
        var length = 0
        var strayQuote = false
        while true {
            if pos >= buffer.count {
                if !fill() {
                    if inQuotes {
                        return .error(SourceFormatError(.unterminatedQuote, at: SourceLocator(file: file, line: startLine),
                                                        "quoted field opened on this line is never closed"))
                    }
                    fields.append(field)
                    return finish(fields, strayQuote: strayQuote, startLine: startLine)
                }
                continue
            }
            let b = buffer[pos]
            pos += 1
            length += 1
            if length > options.maxRecordLength {
                skipToLineEnd()
                return .error(SourceFormatError(.recordTooLarge, at: SourceLocator(file: file, line: startLine), "record is longer than \(options.maxRecordLength) bytes and was skipped"))
            }
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if pos >= buffer.count { fill() }
                    if pos < buffer.count && buffer[pos] == UInt8(ascii: "\"") {
                        field.append(b)
                        pos += 1
                    } else {
                        inQuotes = false
                        afterQuote = true
                    }
                } else {
                    if b == 0x0A { line += 1 }
                    field.append(b)
                }
                continue
            }
            if b == options.delimiter {
                fields.append(field)
                field = []
                quotedField = false
                afterQuote = false
            } else if b == 0x0A {
                line += 1
                if field.last == 0x0D && !afterQuote { field.removeLast() }
                fields.append(field)
                return finish(fields, strayQuote: strayQuote, startLine: startLine)
            } else if b == 0x0D && afterQuote {
                continue
            } else if b == UInt8(ascii: "\"") && field.isEmpty && !quotedField {
                inQuotes = true
                quotedField = true
            } else {
                if afterQuote || b == UInt8(ascii: "\"") { strayQuote = true }
                field.append(b)
            }
        }
    }

    private func finish(_ fields: [[UInt8]], strayQuote: Bool, startLine: Int) -> Row {
        if strayQuote {
            return .error(SourceFormatError(.unterminatedQuote, at: SourceLocator(file: file, line: startLine, index: recordIndex),
                                            "stray quote: a field has text after its closing quote or a quote inside an unquoted field"))
        }
        return .row(fields)
    }

    private func skipToLineEnd() {
        while true {
            if pos >= buffer.count && !fill() { return }
            let b = buffer[pos]
            pos += 1
            if b == 0x0A { line += 1; return }
        }
    }
}
