import JSON5

/// Reads one code table file:
///
/// ```json5
/// {
///   table: 'sex',
///   title: { zh: '性别', en: 'Sex' },
///   source: 'GB/T 2261.1-2003',
///   codes: [
///     { code: '1', label: '男性', en: 'male' },
///   ],
/// }
/// ```
///
/// Codes are strings (`'01'`, never `01`); a number is a problem because it loses leading zeros.
struct CodeTableFileReader {
    var reader: NodeReader

    init(file: String) { reader = NodeReader(file: file) }

    mutating func read(_ root: JSONNode) -> CodeTable? {
        guard reader.object(root, path: "") != nil else { return nil }
        reader.checkKeys(root, allowed: ["table", "title", "source", "codes"], path: "")
        guard let name = reader.string(root, "table", path: "") else { return nil }
        if !name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "_") }) {
            reader.problem(root["table"]?.position, "table", "code table names are snake_case ASCII")
        }
        let title = reader.localized(root, "title", path: name)
        let source = reader.string(root, "source", path: name) ?? ""
        var entries: [CodeTable.Entry] = []
        var seen: [String: Int] = [:]
        guard let member = root.member("codes") else {
            reader.problem(root.position, name, "missing required key 'codes'")
            return nil
        }
        guard let items = member.value.arrayValue else {
            reader.problem(member.value.position, "\(name).codes", "expected an array, found \(member.value.kindName)")
            return nil
        }
        if items.isEmpty { reader.problem(member.value.position, "\(name).codes", "a code table needs at least one code") }
        for (i, item) in items.enumerated() {
            let p = "\(name).codes[\(i)]"
            guard reader.object(item, path: p) != nil else { continue }
            reader.checkKeys(item, allowed: ["code", "label", "en"], path: p)
            if let number = item["code"], number.numberText != nil {
                reader.problem(number.position, "\(p).code", "codes must be strings ('01'), a number loses leading zeros")
                continue
            }
            guard let code = reader.string(item, "code", path: p), let label = reader.string(item, "label", path: p) else { continue }
            let english = reader.string(item, "en", path: p, required: false)
            if let first = seen[code] {
                reader.problem(item["code"]?.position, "\(p).code", "code '\(code)' appears twice (first at line \(first))")
                continue
            }
            seen[code] = item["code"]?.position.line ?? 0
            entries.append(CodeTable.Entry(code: code, label: label, english: english))
        }
        return CodeTable(name: name, title: title ?? LocalizedText(zh: name, en: name), source: source,
                         entries: entries, file: reader.file)
    }
}
