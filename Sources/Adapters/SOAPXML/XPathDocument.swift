import Foundation
import CLibXML2
import SourceFormats

/// A parsed XML document with XPath 1.0 queries, over libxml2 (DOM; the pages a SOAP service
/// answers are small). Not thread-safe: one per page.
final class XPathDocument {
    /// Why a document could not be parsed: libxml2's message and its line.
    struct ParseError: Error {
        var line: Int
        var message: String
    }

    private let document: xmlDocPtr
    private let context: xmlXPathContextPtr

    static let parseOptions = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue
                                    | XML_PARSE_NOCDATA.rawValue | XML_PARSE_HUGE.rawValue)

    /// Parses `bytes` strictly (no recovery): a document that is not well formed throws.
    init(bytes: [UInt8], namespaces: [(String, String)]) throws(ParseError) {
        xmlInitParser()
        guard !bytes.isEmpty else { throw ParseError(line: 0, message: "the answer is empty") }
        // Entities could read the hub's files or expand without bound: no DTD, as for pushed XML.
        if XMLDocumentTypeCheck.declaresDocumentType(bytes) {
            throw ParseError(line: 1, message: "an answer with a document type declaration (<!DOCTYPE>) is refused")
        }
        guard let parser = xmlNewParserCtxt() else { throw ParseError(line: 0, message: "libxml2 could not create a parser") }
        defer { xmlFreeParserCtxt(parser) }
        let parsed: xmlDocPtr? = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buffer.count, 1)) {
                xmlCtxtReadMemory(parser, $0, Int32(buffer.count), "answer.xml", nil, Self.parseOptions)
            }
        }
        let wellFormed = parser.pointee.wellFormed != 0
        guard let parsed, wellFormed else {
            if let parsed { xmlFreeDoc(parsed) }
            var line = 0, message = "not well-formed XML"
            if let error = xmlCtxtGetLastError(parser) {
                line = Int(error.pointee.line)
                if let text = error.pointee.message {
                    message = String(cString: text).trimmingCharacters(in: [" ", "\n"])
                }
            }
            throw ParseError(line: line, message: message)
        }
        Self.silenceErrors()
        guard let context = xmlXPathNewContext(parsed) else {
            xmlFreeDoc(parsed)
            throw ParseError(line: 0, message: "libxml2 could not create an XPath context")
        }
        for (prefix, uri) in namespaces { _ = xmlXPathRegisterNs(context, prefix, uri) }
        document = parsed
        self.context = context
    }

    deinit {
        xmlXPathFreeContext(context)
        xmlFreeDoc(document)
    }

    /// The nodes `expression` selects (relative to `node`, or the document); nil when it does not compile.
    func nodes(_ expression: String, relativeTo node: xmlNodePtr? = nil) -> [xmlNodePtr]? {
        context.pointee.node = node
        guard let result = xmlXPathEvalExpression(expression, context) else { return nil }
        defer { xmlXPathFreeObject(result) }
        guard let set = result.pointee.nodesetval else { return [] }
        var out: [xmlNodePtr] = []
        out.reserveCapacity(Int(set.pointee.nodeNr))
        for i in 0..<Int(set.pointee.nodeNr) { if let n = set.pointee.nodeTab[i] { out.append(n) } }
        return out
    }

    /// The string value of `expression` (XPath `string()` of its result), relative to `node`.
    func string(_ expression: String, relativeTo node: xmlNodePtr? = nil) -> String? {
        context.pointee.node = node
        guard let result = xmlXPathEvalExpression(expression, context) else { return nil }
        defer { xmlXPathFreeObject(result) }
        guard let text = xmlXPathCastToString(result) else { return nil }
        defer { ro_xml_free(text) }
        return String(cString: text)
    }

    /// Whether `expression` compiles (checked when settings are validated).
    static func compiles(_ expression: String) -> Bool {
        xmlInitParser()
        silenceErrors()
        guard let compiled = xmlXPathCompile(expression) else { return false }
        xmlXPathFreeCompExpr(compiled)
        return true
    }

    /// libxml2 prints XPath errors to stderr unless a handler takes them; ours are reported as
    /// settings problems or pull failures instead. (The handler is per thread in libxml2.)
    static func silenceErrors() {
        xmlSetStructuredErrorFunc(nil) { _, _ in }
    }
}
