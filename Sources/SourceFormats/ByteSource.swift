#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a reader's bytes come from: a file read in chunks (memory does not grow with the file),
/// or bytes already in memory.
public final class ByteSource {
    private enum Backing {
        case file(Int32)
        case memory([UInt8], Int)
    }
    private var backing: Backing
    /// Name used in positions: the file path, or what the caller called the input.
    public let name: String

    /// Opens a file for reading; throws an `.io` error (with the path, never the contents) if it cannot.
    public init(path: String) throws(SourceFormatError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw SourceFormatError(.io, at: SourceLocator(file: path), "cannot open file: \(reason)")
        }
        backing = .file(fd)
        name = path
    }

    /// Bytes already in memory (tests, pushed request bodies).
    public init(bytes: [UInt8], name: String = "<input>") {
        backing = .memory(bytes, 0)
        self.name = name
    }

    deinit {
        if case .file(let fd) = backing { close(fd) }
    }

    /// Why reading stopped early (an I/O error), if it did.
    public private(set) var failure: String?

    /// Bytes handed to readers so far (progress reports compare it with the file's size).
    public private(set) var bytesRead = 0

    /// Appends up to `maxCount` bytes to `buffer`; returns how many were read (0 at the end).
    /// A read error ends the input and is reported through `failure`.
    func read(into buffer: inout [UInt8], maxCount: Int) -> Int {
        switch backing {
        case .file(let fd):
            let old = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: maxCount))
            let n = buffer.withUnsafeMutableBytes { raw in
                Glibc.read(fd, raw.baseAddress! + old, maxCount)
            }
            if n < 0 {
                failure = String(cString: strerror(errno))
                buffer.removeLast(maxCount)
                return 0
            }
            buffer.removeLast(maxCount - n)
            bytesRead += n
            return n
        case .memory(let bytes, let offset):
            let n = min(maxCount, bytes.count - offset)
            if n > 0 { buffer.append(contentsOf: bytes[offset..<(offset + n)]) }
            backing = .memory(bytes, offset + n)
            bytesRead += n
            return n
        }
    }

    /// Reads everything that is left.
    func readToEnd() -> [UInt8] {
        if case .memory(let bytes, let offset) = backing {
            backing = .memory([], 0)
            bytesRead += bytes.count - offset
            return offset == 0 ? bytes : Array(bytes[offset...])
        }
        var out: [UInt8] = []
        while read(into: &out, maxCount: 1 << 20) > 0 {}
        return out
    }
}
