import CLibXML2
import Foundation

/// How the records of an XML document are found.
public enum XMLRecordSelector: Sendable, Equatable {
    /// Every element with this local name (namespace prefixes ignored), streamed: records before a
    /// well-formedness error are still delivered. The usual choice for SOAP answers (`AC01`, `row`).
    case element(String)
    /// An XPath 1.0 expression over the whole document (e.g. `//*[local-name()='row']`). The
    /// document is parsed in full first, so a document that is not well formed yields only its error.
    case xpath(String)
}

/// Reads records from XML with libxml2. A record element's attributes become `@name` fields, its
/// child elements become fields (text -> string, nested elements -> object, repeated -> array,
/// `xsi:nil="true"` -> null).
public final class XMLRecordReader: SourceRecordReader {
    private let file: String
    private let selector: XMLRecordSelector
    private let keyField: String?
    private var bytes: UnsafeMutableBufferPointer<UInt8>?
    private var reader: xmlTextReaderPtr?
    private let errors = XMLErrorSink()
    private var index = 0
    private var done = false
    private var pendingRead: Int32?
    private var pending = ItemQueue()
    private var started = false
    private let path: String?

    /// Reads a file (streamed by libxml2 when the selector is `.element`).
    public init(path: String, selector: XMLRecordSelector, keyField: String? = nil) {
        self.file = path
        self.path = path
        self.selector = selector
        self.keyField = keyField
        XMLLibrary.initialize()
    }

    /// Reads a document held in memory; `source` is consumed.
    public init(source: ByteSource, selector: XMLRecordSelector, keyField: String? = nil) {
        let data = source.readToEnd()
        let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(data.count, 1))
        _ = copy.initialize(from: data)
        bytes = copy
        bytesCount = data.count
        file = source.name
        path = nil
        self.selector = selector
        self.keyField = keyField
        XMLLibrary.initialize()
    }
    private var bytesCount = 0
    private var checkedDocumentType = false

    /// The prolog, read from memory or from the file's first 1 MiB.
    private func declaresDocumentType() -> Bool {
        if let bytes { return XMLDocumentTypeCheck.declaresDocumentType(UnsafeBufferPointer(rebasing: bytes[0..<bytesCount])) }
        guard let path, let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 1 << 20)) ?? Data()
        return XMLDocumentTypeCheck.declaresDocumentType(head)
    }

    deinit {
        if let reader { xmlFreeTextReader(reader) }
        bytes?.deallocate()
    }

    static let baseOptions = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOCDATA.rawValue)
    /// Files an operator imports may be huge (no libxml2 size limits); documents received over the
    /// network keep libxml2's limits (depth 256, text nodes of 10 MB).
    var parseOptions: Int32 { path != nil ? Self.baseOptions | Int32(XML_PARSE_HUGE.rawValue) : Self.baseOptions }

    public func next() -> SourceReadItem? {
        if let item = pending.pop() { return item }
        if done { return nil }
        if !checkedDocumentType {
            checkedDocumentType = true
            if declaresDocumentType() {
                done = true
                return .error(SourceFormatError(.documentType, at: SourceLocator(file: file, line: 1), XMLDocumentTypeCheck.refusal))
            }
        }
        switch selector {
        case .element(let name): return nextStreamed(name)
        case .xpath(let expression):
            done = true
            readWithXPath(expression)
            return pending.pop()
        }
    }

    // MARK: streaming by element name

    private func nextStreamed(_ name: String) -> SourceReadItem? {
        if !started {
            started = true
            if let path {
                reader = xmlReaderForFile(path, nil, parseOptions | Int32(XML_PARSE_RECOVER.rawValue))
            } else if let bytes {
                reader = bytes.withMemoryRebound(to: CChar.self) { xmlReaderForMemory($0.baseAddress, Int32(bytesCount), file, nil, parseOptions | Int32(XML_PARSE_RECOVER.rawValue)) }
            }
            guard let reader else {
                done = true
                return .error(SourceFormatError(.io, at: SourceLocator(file: file), "cannot open the XML document"))
            }
            xmlTextReaderSetStructuredErrorHandler(reader, xmlErrorCallback, Unmanaged.passUnretained(errors).toOpaque())
        }
        guard let reader else { return nil }
        while true {
            let result: Int32
            if let r = pendingRead { result = r; pendingRead = nil } else { result = xmlTextReaderRead(reader) }
            if result == 0 && errors.message == nil {
                done = true
                return nil
            }
            if result <= 0 {
                return failStreaming(name, fallbackLine: Int(xmlTextReaderGetParserLineNumber(reader)))
            }
            guard xmlTextReaderNodeType(reader) == Int32(XML_READER_TYPE_ELEMENT.rawValue),
                  let local = xmlTextReaderConstLocalName(reader),
                  XMLNodeConverter.equals(local, name) else { continue }
            guard let node = xmlTextReaderExpand(reader) else {
                // Expanding read on into an error past this record: deliver what ends before it.
                return failStreaming(name, fallbackLine: Int(xmlTextReaderGetParserLineNumber(reader)))
            }
            let locator = SourceLocator(file: file, line: Int(xmlGetLineNo(node)), index: index, path: "\(name)[\(index + 1)]")
            // The reader parses ahead in recovery mode: a record is good only if it ends before the first error.
            if errors.message != nil, let errorLine = errors.line, XMLNodeConverter.lastLine(of: node) >= errorLine {
                return failStreaming(name, fallbackLine: nil)
            }
            index += 1
            let object = XMLNodeConverter.object(of: node)
            pendingRead = xmlTextReaderNext(reader)
            return .record(SourceRecord(fields: object, locator: locator, sourceKey: keyField.flatMap { object[$0]?.scalarText }))
        }
    }

    /// After a parse error the streaming reader gives up, although libxml2 may already have parsed
    /// good records past the last one delivered (it reads ahead in chunks). Parse once more in
    /// recovery mode and deliver the records that end before the error line, then the error.
    private func failStreaming(_ name: String, fallbackLine: Int?) -> SourceReadItem? {
        done = true
        let error = errors.error(file: file, fallbackLine: fallbackLine)
        if let errorLine = error.locator.line, let document = parseDocument(options: parseOptions | Int32(XML_PARSE_RECOVER.rawValue)) {
            defer { xmlFreeDoc(document) }
            var matches: [xmlNodePtr] = []
            XMLNodeConverter.collect(named: name, under: xmlDocGetRootElement(document), into: &matches)
            for node in matches.dropFirst(index) where XMLNodeConverter.lastLine(of: node) < errorLine {
                let locator = SourceLocator(file: file, line: Int(xmlGetLineNo(node)), index: index, path: "\(name)[\(index + 1)]")
                index += 1
                let object = XMLNodeConverter.object(of: node)
                pending.append(.record(SourceRecord(fields: object, locator: locator, sourceKey: keyField.flatMap { object[$0]?.scalarText })))
            }
        }
        pending.append(.error(error))
        return pending.pop()
    }

    private func parseDocument(options: Int32) -> xmlDocPtr? {
        if let path { return xmlReadFile(path, nil, options) }
        guard let bytes else { return nil }
        return bytes.withMemoryRebound(to: CChar.self) { xmlReadMemory($0.baseAddress, Int32(bytesCount), file, nil, options) }
    }

    // MARK: XPath over the whole document

    private func readWithXPath(_ expression: String) {
        guard let context = xmlNewParserCtxt() else {
            pending.append(.error(SourceFormatError(.io, at: SourceLocator(file: file), "cannot create an XML parser")))
            return
        }
        defer { xmlFreeParserCtxt(context) }
        let document: xmlDocPtr?
        if let path {
            document = xmlCtxtReadFile(context, path, nil, parseOptions)
        } else if let bytes {
            document = bytes.withMemoryRebound(to: CChar.self) { xmlCtxtReadMemory(context, $0.baseAddress, Int32(bytesCount), file, nil, parseOptions) }
        } else {
            document = nil
        }
        guard let document else {
            let sink = XMLErrorSink()
            if let last = xmlCtxtGetLastError(context) { sink.record(last) }
            pending.append(.error(sink.error(file: file, fallbackLine: nil)))
            return
        }
        defer { xmlFreeDoc(document) }
        guard let xpathContext = xmlXPathNewContext(document) else { return }
        defer { xmlXPathFreeContext(xpathContext) }
        guard let result = xmlXPathEvalExpression(expression, xpathContext) else {
            pending.append(.error(SourceFormatError(.invalidXPath, at: SourceLocator(file: file), "the XPath expression for records is not valid")))
            return
        }
        defer { xmlXPathFreeObject(result) }
        guard let nodes = result.pointee.nodesetval else { return }
        for i in 0..<Int(nodes.pointee.nodeNr) {
            guard let node = nodes.pointee.nodeTab[i], node.pointee.type == XML_ELEMENT_NODE else { continue }
            let name = String(cString: node.pointee.name)
            let locator = SourceLocator(file: file, line: Int(xmlGetLineNo(node)), index: index, path: "\(name)[\(index + 1)]")
            index += 1
            let object = XMLNodeConverter.object(of: node)
            pending.append(.record(SourceRecord(fields: object, locator: locator, sourceKey: keyField.flatMap { object[$0]?.scalarText })))
        }
    }
}

/// One-time libxml2 initialisation (thread-safe in libxml2 itself).
enum XMLLibrary {
    static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    static func initialize() { _ = initialized }
}

/// Collects the first libxml2 error of a parse, to report it with its line.
final class XMLErrorSink {
    var line: Int?
    var column: Int?
    var message: String?

    func record(_ error: xmlErrorPtr) {
        guard message == nil, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
        line = error.pointee.line > 0 ? Int(error.pointee.line) : nil
        column = error.pointee.int2 > 0 ? Int(error.pointee.int2) : nil
        if let text = error.pointee.message {
            message = Self.sanitize(String(cString: text))
        }
    }

    /// libxml2 may quote raw bytes of the input ("Bytes: 0xC0 0xEE"): cut them off, keep one line.
    static func sanitize(_ text: String) -> String {
        var s = Substring(text)
        if let cut = s.range(of: "Bytes:") { s = s[..<cut.lowerBound] }
        if let nl = s.firstIndex(of: "\n") { s = s[..<nl] }
        return s.trimmingCharacters(in: .whitespaces)
    }

    func error(file: String, fallbackLine: Int?) -> SourceFormatError {
        let text = message ?? "parse failed"
        let kind: SourceFormatError.Kind = text.contains("UTF-8") || text.contains("encoding") ? .encoding : .notWellFormedXML
        let prefix = kind == .encoding ? "XML has bytes that are not valid in its declared encoding" : "XML is not well formed"
        return SourceFormatError(kind, at: SourceLocator(file: file, line: line ?? fallbackLine), column: column, "\(prefix): \(text)")
    }
}

private let xmlErrorCallback: xmlStructuredErrorFunc = { context, error in
    guard let context, let error else { return }
    Unmanaged<XMLErrorSink>.fromOpaque(context).takeUnretainedValue().record(error)
}

/// Turns a libxml2 element subtree into a `SourceObject`.
enum XMLNodeConverter {
    static func equals(_ cString: UnsafePointer<xmlChar>, _ name: String) -> Bool {
        var p = cString
        for b in name.utf8 {
            if p.pointee != b { return false }
            p += 1
        }
        return p.pointee == 0
    }

    /// Deeper elements are not converted (the record is then refused as too deep, `ValueLimits`).
    static let maxDepth = 256

    static func object(of element: xmlNodePtr, depth: Int = 0) -> SourceObject {
        var object = SourceObject()
        var attribute = element.pointee.properties
        while let attr = attribute {
            let name = String(cString: attr.pointee.name)
            if !(name == "nil" && isXSI(attr.pointee.ns)) {
                object.append("@" + name, .string(content(of: UnsafeMutableRawPointer(attr).assumingMemoryBound(to: xmlNode.self))))
            }
            attribute = attr.pointee.next
        }
        var child = element.pointee.children
        while let node = child {
            if node.pointee.type == XML_ELEMENT_NODE {
                let name = String(cString: node.pointee.name)
                let value = depth < maxDepth ? self.value(of: node, depth: depth + 1) : .array([])
                if let existing = object[name] {
                    if case .array(var items) = existing {
                        items.append(value)
                        object.set(name, .array(items))
                    } else {
                        object.set(name, .array([existing, value]))
                    }
                } else {
                    object.append(name, value)
                }
            }
            child = node.pointee.next
        }
        return object
    }

    /// Elements with this local name in document order (not descending into matches).
    static func collect(named name: String, under node: xmlNodePtr?, into matches: inout [xmlNodePtr]) {
        var current = node
        while let n = current {
            if n.pointee.type == XML_ELEMENT_NODE {
                if equals(n.pointee.name, name) { matches.append(n) } else { collect(named: name, under: n.pointee.children, into: &matches) }
            }
            current = n.pointee.next
        }
    }

    /// The line of the last node in an element's subtree (where the element's content ends).
    static func lastLine(of element: xmlNodePtr) -> Int {
        var node = element
        while let last = node.pointee.last { node = last }
        return max(Int(xmlGetLineNo(node)), Int(xmlGetLineNo(element)))
    }

    static func value(of element: xmlNodePtr, depth: Int) -> SourceValue {
        if isNil(element) { return .null }
        var hasElementChild = false
        var child = element.pointee.children
        while let node = child {
            if node.pointee.type == XML_ELEMENT_NODE { hasElementChild = true; break }
            child = node.pointee.next
        }
        if hasElementChild || element.pointee.properties != nil {
            var object = self.object(of: element, depth: depth)
            if !hasElementChild {
                let text = content(of: element)
                if !text.isEmpty { object.append("#text", .string(text)) }
            }
            return .object(object)
        }
        return .string(content(of: element))
    }

    static func content(of node: xmlNodePtr) -> String {
        guard let text = xmlNodeGetContent(node) else { return "" }
        defer { ro_xml_free(text) }
        return String(cString: text)
    }

    private static func isXSI(_ ns: xmlNsPtr?) -> Bool {
        guard let ns, let href = ns.pointee.href else { return false }
        return equals(href, "http://www.w3.org/2001/XMLSchema-instance")
    }

    private static func isNil(_ element: xmlNodePtr) -> Bool {
        var attribute = element.pointee.properties
        while let attr = attribute {
            if equals(attr.pointee.name, "nil"), isXSI(attr.pointee.ns) {
                return content(of: UnsafeMutableRawPointer(attr).assumingMemoryBound(to: xmlNode.self)) == "true"
            }
            attribute = attr.pointee.next
        }
        return false
    }
}

/// Finds a document type declaration in an XML document's prolog. Department records need none,
/// and its entities are how XML attacks work (external entities read local files, nested ones
/// expand without bound), so a document that has one is refused before libxml2 sees it.
public enum XMLDocumentTypeCheck {
    /// True when the prolog (everything before the root element) holds `<!DOCTYPE`. UTF-16 text
    /// is looked at through its ASCII bytes (zero bytes are skipped).
    public static func declaresDocumentType<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        var ascii: [UInt8] = []
        ascii.reserveCapacity(min(bytes.count, 4096))
        for b in bytes where b != 0 { ascii.append(b) }
        var i = 0
        func starts(_ text: String) -> Bool {
            let t = Array(text.utf8)
            return i + t.count <= ascii.count && Array(ascii[i..<(i + t.count)]) == t
        }
        while i < ascii.count {
            let b = ascii[i]
            if b != UInt8(ascii: "<") { i += 1; continue }
            if starts("<!DOCTYPE") { return true }
            if starts("<!--") {
                guard let end = find("-->", in: ascii, from: i + 4) else { return false }
                i = end
            } else if starts("<?") {
                guard let end = find("?>", in: ascii, from: i + 2) else { return false }
                i = end
            } else {
                return false   // the root element: the prolog is over
            }
        }
        return false
    }

    /// The index just past the first `marker` at or after `start`.
    private static func find(_ marker: String, in bytes: [UInt8], from start: Int) -> Int? {
        let m = Array(marker.utf8)
        var i = start
        while i + m.count <= bytes.count {
            if bytes[i] == m[0], Array(bytes[i..<(i + m.count)]) == m { return i + m.count }
            i += 1
        }
        return nil
    }

    static let refusal = "XML with a document type declaration (<!DOCTYPE>) is refused: department records need none, and its entities could read local files or expand without bound"
}
