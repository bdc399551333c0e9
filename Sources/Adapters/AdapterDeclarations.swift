import Foundation
import JSON5
import Secrets

/// Reads and checks adapter declarations (`adapters/*.json5`).
public enum AdapterDeclarations {
    static let knownKeys: Set<String> = ["id", "department", "mapping", "token", "description", "pull"]

    /// Loads every `*.json5` file in `directory`, sorted by name; throws every problem at once.
    /// `departments` are the catalog's department ids (nil: the caller checks departments itself).
    public static func load(directory: String, kinds: [any PullKind.Type] = PullKinds.all,
                            departments: [String]? = nil) throws(AdapterLoadError) -> [AdapterDeclaration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json5") }.sorted()
        } catch {
            throw AdapterLoadError(problems: [AdapterProblem(file: directory, position: nil, path: "",
                                                             message: "cannot read the adapters folder")])
        }
        var adapters: [AdapterDeclaration] = []
        var problems: [AdapterProblem] = []
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                problems.append(AdapterProblem(file: path, position: nil, path: "", message: "cannot read the file"))
                continue
            }
            switch parse(Array(data), file: path, kinds: kinds, departments: departments) {
            case .success(let adapter): adapters.append(adapter)
            case .failure(let error): problems += error.problems
            }
        }
        var seen: [String: String] = [:]
        for adapter in adapters {
            if let other = seen[adapter.id] {
                problems.append(AdapterProblem(file: adapter.file, position: nil, path: "id",
                                               message: "adapter id '\(adapter.id)' is also declared in \(other)"))
            }
            seen[adapter.id] = adapter.file
        }
        guard problems.isEmpty else { throw AdapterLoadError(problems: problems) }
        return adapters
    }

    /// Parses one declaration, collecting every problem. A `pull` object is checked against
    /// `kinds` (unknown kind, bad schedule, and whatever the kind's own `validate` finds). The
    /// department must be one of `departments`, the catalog's (nil: not checked here).
    public static func parse(_ bytes: [UInt8], file: String, kinds: [any PullKind.Type] = PullKinds.all,
                             departments: [String]? = nil) -> Result<AdapterDeclaration, AdapterLoadError> {
        let root: JSONNode
        do {
            root = try JSON5.parseDocument(bytes, file: file)
        } catch {
            return .failure(AdapterLoadError(problems: [AdapterProblem(file: file, position: error.position, path: "", message: error.message)]))
        }
        guard let members = root.members else {
            return .failure(AdapterLoadError(problems: [AdapterProblem(file: file, position: root.position, path: "",
                                                                       message: "an adapter declaration is an object")]))
        }
        var problems: [AdapterProblem] = []
        func problem(_ node: JSONNode?, _ path: String, _ message: String) {
            problems.append(AdapterProblem(file: file, position: node?.position ?? root.position, path: path, message: message))
        }
        for member in members where !knownKeys.contains(member.key) {
            problems.append(AdapterProblem(file: file, position: member.keyPosition, path: member.key,
                                           message: "unknown key (known: \(knownKeys.sorted().joined(separator: ", ")))"))
        }
        func requiredString(_ key: String) -> String? {
            guard let node = root[key] else { problem(nil, key, "missing"); return nil }
            guard let text = node.stringValue, !text.isEmpty else { problem(node, key, "must be a non-empty string"); return nil }
            return text
        }
        let id = requiredString("id")
        if let id, id.range(of: "^[a-z0-9][a-z0-9-]{0,62}$", options: .regularExpression) == nil {
            problem(root["id"], "id", "must be lowercase letters, digits and dashes (at most 63)")
        }
        let department = requiredString("department")
        if let department, let departments, !departments.contains(department) {
            problem(root["department"], "department", "unknown department '\(department)': not a department of the catalog (known: \(departments.joined(separator: ", ")))")
        }
        let mapping = requiredString("mapping")
        var token: SecretReference?
        if let node = root["token"], !node.isNull {
            token = parseSecret(node, path: "token", problem: problem)
        }
        var description: String?
        if let node = root["description"] {
            if let text = node.stringValue { description = text } else { problem(node, "description", "must be a string") }
        }
        var pull: PullDeclaration?
        if let node = root["pull"], !node.isNull {
            pull = parsePull(node, file: file, kinds: kinds, problems: &problems)
        }
        guard problems.isEmpty, let id, let department, let mapping else {
            return .failure(AdapterLoadError(problems: problems))
        }
        return .success(AdapterDeclaration(id: id, department: department, mapping: mapping, token: token,
                                           description: description, pull: pull, file: file))
    }

    /// Keys that look like scheduler settings but are not: the scheduler's lease and backoff are
    /// the hub's (HubConfiguration.scheduler), and an adapter is stopped by pausing it.
    static let unsupportedPullKeys: [(String, String)] = [
        ("enabled", "not a setting: pause the adapter (POST /v1/adapters/{id}/pause) or leave out its pull"),
        ("backoff", "not a setting: retries back off by the hub's rules (docs/adapters.md, Failures)"),
        ("lease", "not a setting: leases are the hub's (docs/adapters.md, Scheduling)"),
    ]

    /// `pull: { kind, every, ...settings }`: the framework's keys here, the rest by the kind.
    static func parsePull(_ node: JSONNode, file: String, kinds: [any PullKind.Type],
                          problems: inout [AdapterProblem]) -> PullDeclaration? {
        func problem(_ at: JSONNode?, _ path: String, _ message: String) {
            problems.append(AdapterProblem(file: file, position: at?.position ?? node.position, path: path, message: message))
        }
        guard node.members != nil else {
            problem(node, "pull", "must be an object: { kind: \"...\", every: \"5m\", ... }")
            return nil
        }
        let known = kinds.map { $0.name }.sorted().joined(separator: ", ")
        var kind: (any PullKind.Type)?
        var kindName: String?
        if let kindNode = node["kind"] {
            if let name = kindNode.stringValue, !name.isEmpty {
                kindName = name
                kind = PullKinds.named(name, in: kinds)
                if kind == nil {
                    problem(kindNode, "pull.kind", "unknown pull kind '\(name)' (known: \(known.isEmpty ? "none" : known))")
                }
            } else {
                problem(kindNode, "pull.kind", "must be a non-empty string")
            }
        } else {
            problem(nil, "pull.kind", "missing (known: \(known.isEmpty ? "none" : known))")
        }
        var every: Double?
        if let everyNode = node["every"] {
            switch PullSchedule.seconds(everyNode) {
            case .success(let seconds): every = seconds
            case .failure(let error): problem(everyNode, "pull.every", error.message)
            }
        } else {
            problem(nil, "pull.every", "missing: how often to pull, e.g. \"5m\"")
        }
        // Per-adapter scheduler knobs are not settings: say what to do instead of ignoring them.
        for (key, advice) in unsupportedPullKeys {
            if let member = node.member(key) {
                problems.append(AdapterProblem(file: file, position: member.keyPosition, path: "pull.\(key)", message: advice))
            }
        }
        if let kind { problems += kind.validate(node, file: file) }
        guard let kindName, kind != nil, let every else { return nil }
        return PullDeclaration(kind: kindName, every: every, settings: node)
    }

    static func parseSecret(_ node: JSONNode, path: String, problem: (JSONNode?, String, String) -> Void) -> SecretReference? {
        guard let members = node.members, members.count == 1, let member = members.first else {
            problem(node, path, "must be one of { env: \"NAME\" }, { file: \"PATH\" }, { sha256: \"HEX\" }")
            return nil
        }
        guard let text = member.value.stringValue, !text.isEmpty else {
            problem(member.value, "\(path).\(member.key)", "must be a non-empty string")
            return nil
        }
        switch member.key {
        case "env": return .environment(text)
        case "file": return .file(text)
        case "sha256":
            guard text.count == 64, text.allSatisfy(\.isHexDigit) else {
                problem(member.value, "\(path).sha256", "must be 64 hexadecimal digits")
                return nil
            }
            return .sha256(text.lowercased())
        default:
            problem(member.value, "\(path).\(member.key)", "unknown secret source '\(member.key)' (env, file or sha256)")
            return nil
        }
    }
}

extension SecretReference {
    /// The SHA-256 (hex) of the token this reference names. Throws when it does not resolve,
    /// saying which variable or file is missing (never the secret).
    public func resolveTokenHash(relativeTo directory: String,
                                 environment: [String: String] = ProcessInfo.processInfo.environment) throws(SecretResolutionError) -> String {
        switch self {
        case .sha256(let hex):
            return hex
        case .environment(let name):
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                throw SecretResolutionError(message: "environment variable \(name) is not set")
            }
            return Secrets.hex(Secrets.sha256(value))
        case .file(let path):
            let full = path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
            guard let data = FileManager.default.contents(atPath: full) else {
                throw SecretResolutionError(message: "secret file \(full) cannot be read")
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { throw SecretResolutionError(message: "secret file \(full) is empty") }
            return Secrets.hex(Secrets.sha256(value))
        }
    }
}

/// A secret reference that names nothing usable.
public struct SecretResolutionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
