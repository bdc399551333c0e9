import JSON5

/// Reads newline-delimited JSON: one record object per line, streamed. A bad line is an error item
/// for that line and reading continues with the next one. Blank lines are skipped.
public final class NDJSONRecordReader: SourceRecordReader {
    private var lines: LineReader
    private let file: String
    private let source: ByteSource
    private let keyField: String?
    private var index = 0
    private var reportedFailure = false
    private var stacks = StrictJSONParser.Scratch()

    public init(source: ByteSource, keyField: String? = nil, maxLineLength: Int = 16 << 20) {
        lines = LineReader(source: source, maxLineLength: maxLineLength)
        file = source.name
        self.source = source
        self.keyField = keyField
    }

    public func next() -> SourceReadItem? {
        while let line = lines.next() {
            let locator = SourceLocator(file: file, line: lines.lineNumber)
            guard case .line(var bytes) = line else {
                return .error(SourceFormatError(.recordTooLarge, at: locator, "line is longer than the limit and was skipped"))
            }
            if lines.lineNumber == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let result: Result<JSONValue, ParseFailure> = bytes.withUnsafeBufferPointer { buffer in
                var parser = JSONRecordScan.parser(buffer)
                swap(&parser.scratch, &stacks)
                defer { swap(&parser.scratch, &stacks) }
                do throws(ParseFailure) { return .success(try parser.parseDocument(allowsBOM: false)) } catch { return .failure(error) }
            }
            switch result {
            case .failure(let error) where error.kind == .tooDeep:
                return .error(SourceFormatError(.tooDeep, at: locator, "line nests deeper than \(JSONRecordScan.maxDepth) levels"))
            case .failure(let error):
                return .error(JSONRecordScan.recordError(error, at: locator, column: error.offset + 1))
            case .success(.object(let parsed)):
                let object = SourceObject(parsed)
                var located = locator
                located.index = index
                index += 1
                return .record(SourceRecord(fields: object, locator: located, sourceKey: keyField.flatMap { object[$0]?.scalarText }))
            case .success:
                return .error(SourceFormatError(.notAnObject, at: locator, "line is not a JSON object"))
            }
        }
        if let failure = source.failure, !reportedFailure {
            reportedFailure = true
            return .error(SourceFormatError(.io, at: SourceLocator(file: file, line: lines.lineNumber), "read failed: \(failure)"))
        }
        return nil
    }
}
