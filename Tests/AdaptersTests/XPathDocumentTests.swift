import Testing
@testable import Adapters

/// A SOAP answer is parsed for its paging values: one with a DTD (entities) is refused.
@Suite struct XPathDocumentTests {
    @Test func anAnswerWithADocumentTypeIsRefused() {
        let xxe = #"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r><total>&x;</total></r>"#
        #expect(throws: XPathDocument.ParseError.self) { try XPathDocument(bytes: Array(xxe.utf8), namespaces: []) }
        let plain = #"<?xml version="1.0"?><r><total>3</total></r>"#
        #expect(throws: Never.self) { try XPathDocument(bytes: Array(plain.utf8), namespaces: []) }
    }
}
