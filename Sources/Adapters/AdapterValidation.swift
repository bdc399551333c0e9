import Foundation
import JSON5

/// Checks a declaration the way the hub does before it accepts it: the declaration itself (keys,
/// id, department, the pull object and the kind's settings) and every secret reference in it
/// (`{ env: NAME }`, `{ file: PATH }` under `token` or anywhere under `pull`), which must resolve.
/// Every problem is returned at once, attached to its field. The mapping is checked by the hub,
/// which has the catalog.
public enum AdapterValidation {
    /// The declaration when it has no problem, and every problem found.
    public static func check(_ bytes: [UInt8], file: String, baseDirectory: String,
                             environment: [String: String] = ProcessInfo.processInfo.environment,
                             kinds: [any PullKind.Type] = PullKinds.all,
                             departments: [String]? = nil) -> (declaration: AdapterDeclaration?, problems: [AdapterProblem]) {
        var problems: [AdapterProblem] = []
        var declaration: AdapterDeclaration?
        switch AdapterDeclarations.parse(bytes, file: file, kinds: kinds, departments: departments) {
        case .success(let parsed): declaration = parsed
        case .failure(let error): problems = error.problems
        }
        if let root = try? JSON5.parseDocument(bytes, file: file) {
            problems += unresolvedSecrets(in: root, file: file, baseDirectory: baseDirectory, environment: environment)
        }
        problems.sort { ($0.position ?? SourcePosition(line: 0, column: 0)) < ($1.position ?? SourcePosition(line: 0, column: 0)) }
        return (problems.isEmpty ? declaration : nil, problems)
    }

    /// Secret references under `token` and `pull` that name a variable that is not set or a file
    /// that cannot be read. Messages name the variable or file, never a secret.
    public static func unresolvedSecrets(in root: JSONNode, file: String, baseDirectory: String,
                                         environment: [String: String]) -> [AdapterProblem] {
        var problems: [AdapterProblem] = []
        for (path, node) in secretReferences(in: root) {
            guard let reference = reference(node) else { continue }
            do {
                _ = try reference.resolveText(relativeTo: baseDirectory, environment: environment)
            } catch {
                problems.append(AdapterProblem(file: file, position: node.position, path: path,
                                               message: "secret reference does not resolve: \(error.message)"))
            }
        }
        return problems
    }

    /// Every `{ env: ... }` / `{ file: ... }` object under `token` and `pull`, with its key path.
    static func secretReferences(in root: JSONNode) -> [(String, JSONNode)] {
        var found: [(String, JSONNode)] = []
        func walk(_ node: JSONNode, _ path: String) {
            if reference(node) != nil { found.append((path, node)); return }
            if let members = node.members {
                for member in members { walk(member.value, path + "." + member.key) }
            } else if let items = node.arrayValue {
                for (index, item) in items.enumerated() { walk(item, "\(path)[\(index)]") }
            }
        }
        for key in ["token", "pull"] { if let node = root[key] { walk(node, key) } }
        return found
    }

    /// The reference an object `{ env: NAME }` or `{ file: PATH }` names, if it is one.
    public static func reference(_ node: JSONNode) -> SecretReference? {
        guard let members = node.members, members.count == 1, let member = members.first,
              let text = member.value.stringValue, !text.isEmpty else { return nil }
        switch member.key {
        case "env": return .environment(text)
        case "file": return .file(text)
        default: return nil
        }
    }
}

extension SecretReference {
    /// The secret's text (trailing white space removed). A `sha256` reference has no text.
    public func resolveText(relativeTo directory: String,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(SecretResolutionError) -> String {
        switch self {
        case .sha256:
            throw SecretResolutionError(message: "a sha256 reference holds a hash, not a usable secret")
        case .environment(let name):
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                throw SecretResolutionError(message: "environment variable \(name) is not set")
            }
            return value
        case .file(let path):
            let full = path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
            guard let data = FileManager.default.contents(atPath: full) else {
                throw SecretResolutionError(message: "secret file \(full) cannot be read")
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { throw SecretResolutionError(message: "secret file \(full) is empty") }
            return value
        }
    }
}
