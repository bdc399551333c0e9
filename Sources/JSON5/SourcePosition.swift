/// A place in a text file: 1-based line and 1-based column (counted in Unicode scalars).
public struct SourcePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: SourcePosition, b: SourcePosition) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    /// `line:column`, the form editors and compilers use.
    public var description: String { "\(line):\(column)" }
}

/// Maps byte offsets of a UTF-8 text to line/column positions.
///
/// Built once per document; line breaks are LF, CR, CRLF, U+2028 and U+2029 (the JSON5 line terminators).
struct LineTable {
    private var lineStarts: [Int] = [0]

    init(_ bytes: UnsafeRawBufferPointer) {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b == 0x0A {
                lineStarts.append(i + 1)
            } else if b == 0x0D {
                if i + 1 < n, bytes[i + 1] == 0x0A { i += 1 }
                lineStarts.append(i + 1)
            } else if b == 0xE2, i + 2 < n, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 {
                i += 2
                lineStarts.append(i + 1)
            }
            i += 1
        }
    }

    /// The position of the byte at `offset` (an offset at the end gives the position after the last character).
    func position(of offset: Int, in bytes: UnsafeRawBufferPointer) -> SourcePosition {
        var lo = 0
        var hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        var column = 1
        var i = lineStarts[lo]
        let end = min(offset, bytes.count)
        while i < end {
            if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return SourcePosition(line: lo + 1, column: column)
    }

    /// Position of an offset without a prebuilt table (used once, for an error in the fast parser).
    static func position(of offset: Int, in bytes: UnsafeRawBufferPointer) -> SourcePosition {
        LineTable(UnsafeRawBufferPointer(rebasing: bytes[0..<min(offset, bytes.count)]))
            .position(of: offset, in: bytes)
    }
}
