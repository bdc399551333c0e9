/// Splits a byte source into lines without holding more than one chunk plus the current line.
struct LineReader {
    private let source: ByteSource
    private var buffer: [UInt8] = []
    private var start = 0
    private var exhausted = false
    /// 1-based number of the line returned last.
    private(set) var lineNumber = 0
    static let chunkSize = 1 << 16
    let maxLineLength: Int

    init(source: ByteSource, maxLineLength: Int = 16 << 20) {
        self.source = source
        self.maxLineLength = maxLineLength
    }

    enum Line {
        case line(ArraySlice<UInt8>)
        case tooLong
    }

    /// The next line without its terminator (LF or CRLF); nil at the end.
    mutating func next() -> Line? {
        var searchFrom = start
        while true {
            if let nl = buffer[searchFrom...].firstIndex(of: 0x0A) {
                if nl - start > maxLineLength {
                    start = nl + 1
                    lineNumber += 1
                    return .tooLong
                }
                var end = nl
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[start..<end]
                start = nl + 1
                lineNumber += 1
                return .line(line)
            }
            if exhausted {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                lineNumber += 1
                return .line(line)
            }
            if buffer.count - start > maxLineLength {
                // Skip the rest of the oversized line so the following lines are still read.
                lineNumber += 1
                buffer.removeAll(keepingCapacity: true)
                start = 0
                while !exhausted {
                    if source.read(into: &buffer, maxCount: Self.chunkSize) == 0 { exhausted = true; break }
                    if let nl = buffer.firstIndex(of: 0x0A) {
                        buffer.removeSubrange(0...nl)
                        break
                    }
                    buffer.removeAll(keepingCapacity: true)
                }
                return .tooLong
            }
            if start > 0 {
                buffer.removeSubrange(0..<start)
                start = 0
            }
            searchFrom = buffer.count
            if source.read(into: &buffer, maxCount: Self.chunkSize) == 0 { exhausted = true }
        }
    }
}
