/// One header field of a request or response.
public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The header fields of a request in arrival order, looked up without regard to case.
public struct HTTPHeaders: Sendable, Equatable, Sequence {
    private var fields: [HTTPHeader]

    public init(_ fields: [HTTPHeader] = []) { self.fields = fields }

    /// The first value of the header called `name` (any case), or nil.
    public subscript(_ name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    /// Every value of the header called `name` (any case), in arrival order.
    public func values(_ name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    public mutating func append(_ name: String, _ value: String) {
        fields.append(HTTPHeader(name, value))
    }

    public func makeIterator() -> IndexingIterator<[HTTPHeader]> { fields.makeIterator() }

    /// ASCII case-insensitive comparison, without allocating lower-cased copies.
    static func sameName(_ a: String, _ b: String) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        for (p, q) in zip(x, y) where p != q {
            let lp = (p >= 65 && p <= 90) ? p | 0x20 : p
            let lq = (q >= 65 && q <= 90) ? q | 0x20 : q
            if lp != lq { return false }
        }
        return true
    }
}
