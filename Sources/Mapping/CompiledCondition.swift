import Foundation
import SourceFormats

/// A condition compiled for fast evaluation on records.
indirect enum CompiledCondition: @unchecked Sendable {
    case equals(SourcePath, ByteKeyedTable<Bool>)
    case empty(SourcePath)
    case present(SourcePath)
    case matches(SourcePath, NSRegularExpression)
    case not(CompiledCondition)
    case all([CompiledCondition])
    case any([CompiledCondition])

    func holds(_ scope: RecordScope) -> Bool {
        switch self {
        case .equals(let path, let values):
            guard let text = Self.text(path, scope) else { return false }
            return values.contains(text)
        case .empty(let path):
            return (Self.text(path, scope) ?? "").isEmpty
        case .present(let path):
            return !(Self.text(path, scope) ?? "").isEmpty
        case .matches(let path, let regex):
            guard let text = Self.text(path, scope) else { return false }
            return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        case .not(let c): return !c.holds(scope)
        case .all(let cs): return cs.allSatisfy { $0.holds(scope) }
        case .any(let cs): return cs.contains { $0.holds(scope) }
        }
    }

    /// The trimmed scalar text at a path (arrays and objects count as present but not comparable).
    private static func text(_ path: SourcePath, _ scope: RecordScope) -> String? {
        guard let value = path.resolve(scope) else { return nil }
        switch value {
        case .null: return nil
        case .array(let a): return a.isEmpty ? "" : "[...]"
        case .object(let o): return o.isEmpty ? "" : "{...}"
        default: return TextOps.trim(value.scalarText ?? "")
        }
    }
}
