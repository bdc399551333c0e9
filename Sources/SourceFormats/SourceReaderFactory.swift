/// The wire format of a department source.
public enum SourceFormat: String, Sendable, CaseIterable {
    case json, ndjson, csv, xml

    /// Guesses the format from a file name's extension (`.json`, `.ndjson`/`.jsonl`, `.csv`/`.txt`, `.xml`).
    public init?(fileName: String) {
        let lower = fileName.lowercased()
        if lower.hasSuffix(".ndjson") || lower.hasSuffix(".jsonl") { self = .ndjson }
        else if lower.hasSuffix(".json") { self = .json }
        else if lower.hasSuffix(".csv") || lower.hasSuffix(".tsv") { self = .csv }
        else if lower.hasSuffix(".xml") { self = .xml }
        else { return nil }
    }
}

/// Everything needed to open a reader for one source.
public struct SourceReadOptions: Sendable {
    public var format: SourceFormat
    /// JSON: dotted path to the records array inside an envelope object.
    public var recordsPath: String?
    /// CSV options (delimiter, header, encoding).
    public var csv: CSVOptions
    /// XML: how records are found.
    public var xmlRecords: XMLRecordSelector?
    /// Top-level field holding the record's source key.
    public var keyField: String?

    public init(format: SourceFormat, recordsPath: String? = nil, csv: CSVOptions = CSVOptions(),
                xmlRecords: XMLRecordSelector? = nil, keyField: String? = nil) {
        self.format = format
        self.recordsPath = recordsPath
        self.csv = csv
        self.xmlRecords = xmlRecords
        self.keyField = keyField
    }
}

/// Opens the right reader for a format.
public enum SourceReaders {
    /// A reader over a file. Throws only when the file cannot be opened or the options are incomplete.
    public static func open(path: String, options: SourceReadOptions) throws(SourceFormatError) -> any SourceRecordReader {
        switch options.format {
        case .xml:
            return XMLRecordReader(path: path, selector: try selector(options, file: path), keyField: options.keyField)
        default:
            return try reader(source: ByteSource(path: path), options: options)
        }
    }

    /// A reader over a byte source.
    public static func reader(source: ByteSource, options: SourceReadOptions) throws(SourceFormatError) -> any SourceRecordReader {
        switch options.format {
        case .json: return JSONRecordReader(source: source, recordsPath: options.recordsPath, keyField: options.keyField)
        case .ndjson: return NDJSONRecordReader(source: source, keyField: options.keyField)
        case .csv:
            var csv = options.csv
            if csv.keyColumn == nil { csv.keyColumn = options.keyField }
            return CSVRecordReader(source: source, options: csv)
        case .xml: return XMLRecordReader(source: source, selector: try selector(options, file: source.name), keyField: options.keyField)
        }
    }

    private static func selector(_ options: SourceReadOptions, file: String) throws(SourceFormatError) -> XMLRecordSelector {
        guard let selector = options.xmlRecords else {
            throw SourceFormatError(.invalidXPath, at: SourceLocator(file: file), "XML sources need a record element name or XPath")
        }
        return selector
    }
}
