import Foundation
import JSON5

/// Reads a pull kind's settings (the `pull` object of a declaration) while collecting every
/// problem at once, each attached to its key path (`pull.auth.bearer`) and source position.
///
/// Each kind lists the keys it knows; `kind` and `every` belong to the framework and are always
/// allowed. A reader used by `makeSource` on already validated settings finds no problems.
struct PullSettingsReader {
    /// Keys every pull object may carry, read by the scheduler rather than by a kind (add here
    /// when the framework reads another one).
    static let frameworkKeys: Set<String> = ["kind", "every"]

    let root: JSONNode
    let file: String
    let prefix: String
    private(set) var problems: [AdapterProblem] = []

    init(_ root: JSONNode, file: String, known: Set<String>, prefix: String = "pull") {
        self.root = root
        self.file = file
        self.prefix = prefix
        guard let members = root.members else {
            problems.append(AdapterProblem(file: file, position: root.position, path: prefix, message: "must be an object"))
            return
        }
        let allowed = known.union(Self.frameworkKeys)
        for member in members where !allowed.contains(member.key) {
            problems.append(AdapterProblem(file: file, position: member.keyPosition, path: "\(prefix).\(member.key)",
                                           message: "unknown setting (known: \(known.sorted().joined(separator: ", ")))"))
        }
    }

    func path(_ key: String) -> String { "\(prefix).\(key)" }

    mutating func problem(_ node: JSONNode?, _ path: String, _ message: String) {
        problems.append(AdapterProblem(file: file, position: node?.position ?? root.position, path: path, message: message))
    }

    /// Takes the problems of a reader of a nested object.
    mutating func absorb(_ other: [AdapterProblem]) { problems += other }

    /// A string setting; a missing required one is a problem.
    mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let node = root[key], !node.isNull else {
            if required { problem(nil, path(key), "missing") }
            return nil
        }
        guard let text = node.stringValue, !text.isEmpty else {
            problem(node, path(key), "must be a non-empty string")
            return nil
        }
        return text
    }

    /// One of `choices` (default when absent).
    mutating func choice(_ key: String, _ choices: [String], default value: String) -> String {
        guard let text = string(key) else { return value }
        guard choices.contains(text) else {
            problem(root[key], path(key), "must be one of \(choices.joined(separator: ", "))")
            return value
        }
        return text
    }

    /// An integer in `range` (default when absent).
    mutating func int(_ key: String, default value: Int, in range: ClosedRange<Int>) -> Int {
        guard let node = root[key], !node.isNull else { return value }
        guard let number = node.intValue, range.contains(number) else {
            problem(node, path(key), "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            return value
        }
        return number
    }

    /// Seconds as a number in `range` (default when absent).
    mutating func seconds(_ key: String, default value: Double, in range: ClosedRange<Double>) -> Double {
        guard let node = root[key], !node.isNull else { return value }
        guard let text = node.numberText, let number = Double(text), range.contains(number) else {
            problem(node, path(key), "must be a number of seconds from \(range.lowerBound) to \(range.upperBound)")
            return value
        }
        return number
    }

    mutating func bool(_ key: String, default value: Bool) -> Bool {
        guard let node = root[key], !node.isNull else { return value }
        guard let flag = node.boolValue else {
            problem(node, path(key), "must be true or false")
            return value
        }
        return flag
    }

    /// An object of string values (headers, namespaces).
    mutating func stringMap(_ key: String) -> [(String, String)] {
        guard let node = root[key], !node.isNull else { return [] }
        guard let members = node.members else {
            problem(node, path(key), "must be an object of strings")
            return []
        }
        var out: [(String, String)] = []
        for member in members {
            guard let text = member.value.stringValue else {
                problem(member.value, "\(path(key)).\(member.key)", "must be a string")
                continue
            }
            out.append((member.key, text))
        }
        return out
    }

    /// A secret reference `{ env: NAME }` or `{ file: PATH }` (a hash cannot be sent anywhere).
    mutating func secret(_ node: JSONNode?, path: String, required: Bool = true) -> SecretReference? {
        guard let node, !node.isNull else {
            if required { problem(nil, path, "missing (a secret reference: { env: \"NAME\" } or { file: \"PATH\" })") }
            return nil
        }
        if node.stringValue != nil {
            problem(node, path, "secrets are never written in clear: use { env: \"NAME\" } or { file: \"PATH\" }")
            return nil
        }
        var found: [(JSONNode?, String, String)] = []
        let reference = AdapterDeclarations.parseSecret(node, path: path) { found.append(($0, $1, $2)) }
        for (n, p, m) in found { problem(n, p, m) }
        if case .sha256 = reference {
            problem(node, path, "a SHA-256 hash cannot be sent to a department: use { env: \"NAME\" } or { file: \"PATH\" }")
            return nil
        }
        return reference
    }
}

/// A path relative to the declaration's folder, or absolute.
func resolvePath(_ path: String, base: String) -> String {
    path.hasPrefix("/") ? path : (base as NSString).appendingPathComponent(path)
}

extension PullContext {
    /// Resolves a secret, turning a missing one into a permanent failure that names the reference.
    func secret(_ reference: SecretReference, for setting: String) throws(PullFailure) -> String {
        do {
            return try resolveSecret(reference)
        } catch {
            throw PullFailure(.permanent, "\(setting): the secret in \(reference) cannot be read (\(error))")
        }
    }
}
