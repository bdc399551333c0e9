/// Where a source record (or a problem) sits in its source: enough to find it again, never its content.
public struct SourceLocator: Sendable, Hashable, CustomStringConvertible {
    /// File name or adapter/batch name; nil for in-memory input.
    public var file: String?
    /// 1-based line where the record starts (CSV, NDJSON, XML, JSON).
    public var line: Int?
    /// 0-based index of the record in its container (JSON array element, XML match).
    public var index: Int?
    /// XPath-like path of an XML record, e.g. `AC01[3]`.
    public var path: String?

    public init(file: String? = nil, line: Int? = nil, index: Int? = nil, path: String? = nil) {
        self.file = file
        self.line = line
        self.index = index
        self.path = path
    }

    /// `file:line`, then `[index]` or the XML path: e.g. `people.json:12 [3]`, `si.xml:40 AC01[2]`.
    public var description: String {
        var out = file ?? "<input>"
        if let line { out += ":\(line)" }
        if let path { out += " \(path)" } else if let index { out += " [\(index)]" }
        return out
    }
}

/// One department record: its fields in source order, where it came from, and its key in the source.
public struct SourceRecord: Sendable, Equatable {
    public var fields: SourceObject
    public var locator: SourceLocator
    /// The record's key in the department system (e.g. the person number), when the adapter knows it.
    public var sourceKey: String?

    public init(fields: SourceObject, locator: SourceLocator = SourceLocator(), sourceKey: String? = nil) {
        self.fields = fields
        self.locator = locator
        self.sourceKey = sourceKey
    }

    /// The top-level field with this name.
    public subscript(key: String) -> SourceValue? { fields[key] }
}

/// What a reader yields: a good record, or a problem with one record (the reader continues after it).
public enum SourceReadItem: Sendable {
    case record(SourceRecord)
    case error(SourceFormatError)

    public var record: SourceRecord? {
        if case .record(let r) = self { return r }
        return nil
    }

    public var error: SourceFormatError? {
        if case .error(let e) = self { return e }
        return nil
    }
}

/// A reader of source records. Readers stream where the format allows it: `next()` reads only
/// as much input as the next record needs.
public protocol SourceRecordReader: AnyObject {
    /// The next record or record-level error; nil at the end of the input. A fatal problem
    /// (unreadable file, document not well formed) is yielded as an error, then the reader ends.
    func next() -> SourceReadItem?
}

extension SourceRecordReader {
    /// Reads everything that is left (for samples and tests; import code should stream).
    public func readAll() -> [SourceReadItem] {
        var items: [SourceReadItem] = []
        while let item = next() { items.append(item) }
        return items
    }
}

/// A FIFO of read items for readers that parse ahead (O(1) pop, unlike `removeFirst`).
struct ItemQueue {
    private var items: [SourceReadItem] = []
    private var head = 0

    mutating func append(_ item: SourceReadItem) { items.append(item) }

    mutating func pop() -> SourceReadItem? {
        guard head < items.count else {
            if head > 0 { items.removeAll(); head = 0 }
            return nil
        }
        let item = items[head]
        head += 1
        if head == items.count { items.removeAll(keepingCapacity: true); head = 0 }
        return item
    }
}
