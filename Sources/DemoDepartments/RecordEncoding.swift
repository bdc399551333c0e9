import Foundation

/// Hand-written serializers for department records (no JSONSerialization or XMLDocument per
/// record): each appends one record's bytes to an output buffer.
enum RecordEncoding {
    /// One JSON object on one line (NDJSON), members in field order.
    static func appendJSON(_ fields: [SourceField], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (k, field) in fields.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            appendJSONString(field.name, to: &out)
            out.append(UInt8(ascii: ":"))
            switch field.value {
            case .text(let text): appendJSONString(text, to: &out)
            case .bool(let flag): out.append(contentsOf: flag ? trueBytes : falseBytes)
            case .null: out.append(contentsOf: nullBytes)
            case .object(let members): appendJSON(members, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    private static let trueBytes = Array("true".utf8), falseBytes = Array("false".utf8), nullBytes = Array("null".utf8)
    private static let hex = Array("0123456789abcdef".utf8)

    static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
            case 0..<0x20:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// One XML element named `element` with a child per field; a null field is `xsi:nil`.
    static func appendXML(element: String, _ fields: [SourceField], indent: String, to out: inout [UInt8]) {
        out.append(contentsOf: indent.utf8)
        appendTag(element, closing: false, to: &out)
        out.append(0x0A)
        for field in fields { appendXMLField(field, indent: indent + "  ", to: &out) }
        out.append(contentsOf: indent.utf8)
        appendTag(element, closing: true, to: &out)
        out.append(0x0A)
    }

    private static func appendXMLField(_ field: SourceField, indent: String, to out: inout [UInt8]) {
        out.append(contentsOf: indent.utf8)
        switch field.value {
        case .null:
            out.append(UInt8(ascii: "<")); out.append(contentsOf: field.name.utf8); out.append(contentsOf: " xsi:nil=\"true\"/>".utf8)
        case .text(let text):
            appendTag(field.name, closing: false, to: &out); appendXMLText(text, to: &out); appendTag(field.name, closing: true, to: &out)
        case .bool(let flag):
            appendTag(field.name, closing: false, to: &out); out.append(contentsOf: (flag ? "true" : "false").utf8); appendTag(field.name, closing: true, to: &out)
        case .object(let members):
            appendTag(field.name, closing: false, to: &out); out.append(0x0A)
            for member in members { appendXMLField(member, indent: indent + "  ", to: &out) }
            out.append(contentsOf: indent.utf8); appendTag(field.name, closing: true, to: &out)
        }
        out.append(0x0A)
    }

    private static func appendTag(_ name: String, closing: Bool, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "<"))
        if closing { out.append(UInt8(ascii: "/")) }
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ">"))
    }

    static func appendXMLText(_ text: String, to out: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            default: out.append(byte)
            }
        }
    }

    /// One CSV row (UTF-8) of the fields' texts, quoted when they hold a comma, quote or line break.
    static func csvRow(_ texts: [String]) -> String {
        var row = ""
        for (k, text) in texts.enumerated() {
            if k > 0 { row += "," }
            if text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) {
                row += "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            } else {
                row += text
            }
        }
        return row + "\r\n"
    }

    static func csvTexts(_ fields: [SourceField]) -> [String] {
        fields.map { field in
            if case .text(let text) = field.value { return text }
            return ""
        }
    }
}
