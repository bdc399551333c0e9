import JSON5

/// Reads typed members out of a JSON5 object node, recording a problem for every mistake
/// instead of stopping at the first.
struct NodeReader {
    let file: String
    var problems: [CatalogProblem] = []

    init(file: String) { self.file = file }

    mutating func problem(_ position: SourcePosition?, _ path: String, _ message: String) {
        problems.append(CatalogProblem(file: file, position: position, path: path, message: message))
    }

    /// Reports members whose key is not in `allowed` (a typo would otherwise be silently ignored).
    mutating func checkKeys(_ node: JSONNode, allowed: [String], path: String) {
        for member in node.members ?? [] where !allowed.contains(member.key) {
            problem(member.keyPosition, join(path, member.key),
                    "unknown key '\(member.key)' (expected one of: \(allowed.joined(separator: ", ")))")
        }
    }

    /// The object at `node`, or a problem.
    mutating func object(_ node: JSONNode, path: String) -> JSONNode? {
        guard node.members != nil else {
            problem(node.position, path, "expected an object, found \(node.kindName)")
            return nil
        }
        return node
    }

    mutating func string(_ node: JSONNode, _ key: String, path: String, required: Bool = true) -> String? {
        guard let member = node.member(key) else {
            if required { problem(node.position, path, "missing required key '\(key)'") }
            return nil
        }
        guard let s = member.value.stringValue else {
            problem(member.value.position, join(path, key), "expected a string, found \(member.value.kindName)")
            return nil
        }
        if s.isEmpty {
            problem(member.value.position, join(path, key), "must not be empty")
            return nil
        }
        return s
    }

    mutating func bool(_ node: JSONNode, _ key: String, path: String) -> Bool? {
        guard let member = node.member(key) else { return nil }
        guard let b = member.value.boolValue else {
            problem(member.value.position, join(path, key), "expected true or false, found \(member.value.kindName)")
            return nil
        }
        return b
    }

    mutating func stringArray(_ node: JSONNode, _ key: String, path: String, required: Bool = true) -> [(String, SourcePosition)]? {
        guard let member = node.member(key) else {
            if required { problem(node.position, path, "missing required key '\(key)'") }
            return nil
        }
        guard let items = member.value.arrayValue else {
            problem(member.value.position, join(path, key), "expected an array of strings, found \(member.value.kindName)")
            return nil
        }
        var out: [(String, SourcePosition)] = []
        for (i, item) in items.enumerated() {
            guard let s = item.stringValue, !s.isEmpty else {
                problem(item.position, "\(join(path, key))[\(i)]", "expected a non-empty string, found \(item.kindName)")
                continue
            }
            out.append((s, item.position))
        }
        return out
    }

    /// `{ zh: '...', en: '...' }`.
    mutating func localized(_ node: JSONNode, _ key: String, path: String, required: Bool = true) -> LocalizedText? {
        guard let member = node.member(key) else {
            if required { problem(node.position, path, "missing required key '\(key)' ({ zh: ..., en: ... })") }
            return nil
        }
        let p = join(path, key)
        guard object(member.value, path: p) != nil else { return nil }
        checkKeys(member.value, allowed: ["zh", "en"], path: p)
        let zh = string(member.value, "zh", path: p)
        let en = string(member.value, "en", path: p)
        guard let zh, let en else { return nil }
        return LocalizedText(zh: zh, en: en)
    }

    /// A value that must be one of a raw-value enum's cases.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ node: JSONNode, _ key: String, path: String,
                                                              as: T.Type, required: Bool = true) -> T? where T.RawValue == String {
        guard let text = string(node, key, path: path, required: required) else { return nil }
        guard let value = T(rawValue: text) else {
            let position = node.member(key)?.value.position
            problem(position, join(path, key),
                    "unknown value '\(text)' (expected one of: \(T.allCases.map(\.rawValue).joined(separator: ", ")))")
            return nil
        }
        return value
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
