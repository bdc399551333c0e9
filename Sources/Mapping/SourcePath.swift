import SourceFormats

/// A compiled path into a source record: `XM`, `data.person.name`, `members[0].XM`, `@seq` (XML
/// attribute), `AAB.AAB001` (nested XML element). Inside an `each` output, paths are relative to
/// the element; `$.` makes them start at the record root.
public struct SourcePath: Sendable, Hashable, CustomStringConvertible {
    public enum Step: Sendable, Hashable {
        case key(String)
        case index(Int)
    }
    public var steps: [Step]
    public var fromRoot: Bool
    public let text: String
    /// The first key, kept apart so resolving does not copy it out of `steps`.
    private var firstKey: String = ""
    /// Position of the first key in the plan's per-record key index (-1: looked up by scanning).
    var slot = -1

    /// Parses a path; nil when it is malformed (empty segment, bad index).
    public init?(_ text: String) {
        self.text = text
        var rest = Substring(text)
        fromRoot = false
        if rest.hasPrefix("$.") { fromRoot = true; rest = rest.dropFirst(2) }
        steps = []
        guard !rest.isEmpty else { return nil }
        for segment in rest.split(separator: ".", omittingEmptySubsequences: false) {
            var seg = segment
            var indexes: [Int] = []
            while seg.hasSuffix("]"), let open = seg.lastIndex(of: "[") {
                guard let n = Int(seg[seg.index(after: open)..<seg.index(before: seg.endIndex)]), n >= 0 else { return nil }
                indexes.insert(n, at: 0)
                seg = seg[..<open]
            }
            guard !seg.isEmpty else { return nil }
            steps.append(.key(String(seg)))
            steps.append(contentsOf: indexes.map { .index($0) })
        }
        if case .key(let k) = steps[0] { firstKey = k }
    }

    public var description: String { text }

    /// The value at this path, if present.
    @inline(__always)
    public func resolve(in object: SourceObject, root: SourceObject) -> SourceValue? {
        let start = fromRoot ? root : object
        guard var value = start[firstKey] else { return nil }
        if steps.count == 1 { return value }
        var i = 1
        while i < steps.count {
            switch steps[i] {
            case .key(let k):
                guard case .object(let o) = value, let v = o[k] else { return nil }
                value = v
            case .index(let n):
                guard case .array(let a) = value, n < a.count else { return nil }
                value = a[n]
            }
            i += 1
        }
        return value
    }

    /// The value at this path within a record scope: O(1) through the key index when the path
    /// starts at the record root and has a slot.
    @inline(__always)
    func resolve(_ scope: RecordScope) -> SourceValue? {
        var value: SourceValue
        if slot >= 0 && (fromRoot || scope.objectIsRoot) {
            let i = Int(scope.slots[slot])
            guard i >= 0 else { return nil }
            value = scope.root.values[i]
        } else {
            guard let v = (fromRoot ? scope.root : scope.object)[firstKey] else { return nil }
            value = v
        }
        if steps.count == 1 { return value }
        var i = 1
        while i < steps.count {
            switch steps[i] {
            case .key(let k):
                guard case .object(let o) = value, let v = o[k] else { return nil }
                value = v
            case .index(let n):
                guard case .array(let a) = value, n < a.count else { return nil }
                value = a[n]
            }
            i += 1
        }
        return value
    }
}

/// The record a mapping is applied to: the object being mapped (the record, or an `each`
/// element), the record root, and where the root's keys sit (see `MappingPlan.apply`).
struct RecordScope {
    let object: SourceObject
    let root: SourceObject
    let objectIsRoot: Bool
    /// Slot -> index of the key in `root` (-1 when absent).
    let slots: UnsafeBufferPointer<Int32>
}
