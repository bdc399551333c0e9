import Foundation

/// Reads the event ids out of a Server-Sent Events response as raw socket bytes arrive, without
/// keeping the data lines: only `id: <position>` lines are parsed.
///
/// The stream is requested with HTTP/1.0 so the hub sends the body unchunked (it closes the
/// connection at the end instead); a chunked answer is reported as an error rather than misread.
struct SSEEventScanner {
    /// Why a stream cannot be read.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private enum State { case header, lineStart, idLine, skipLine }
    private var state = State.header
    private var header: [UInt8] = []
    private var idDigits: Int64 = 0
    private var idPrefixSeen = 0
    /// The HTTP status of the answer, once its header was read.
    private(set) var status = 0

    private static let idPrefix: [UInt8] = Array("id: ".utf8)

    /// Consumes `count` bytes; calls `event` with the position of each complete `id:` line.
    mutating func consume(_ bytes: UnsafePointer<UInt8>, _ count: Int, event: (Int64) -> Void) throws(Failure) {
        var i = 0
        if state == .header {
            while i < count {
                header.append(bytes[i])
                i += 1
                if header.count >= 4, header[header.count - 4] == 13, header[header.count - 3] == 10,
                   header[header.count - 2] == 13, header[header.count - 1] == 10 {
                    try finishHeader()
                    break
                }
                if header.count > 16_384 { throw Failure(description: "SSE answer header longer than 16 KiB") }
            }
        }
        while i < count {
            let byte = bytes[i]
            i += 1
            switch state {
            case .header:
                return
            case .lineStart, .idLine:
                if byte == 10 {
                    if state == .idLine && idPrefixSeen == Self.idPrefix.count { event(idDigits) }
                    state = .lineStart
                    idPrefixSeen = 0
                    idDigits = 0
                } else if idPrefixSeen < Self.idPrefix.count {
                    if byte == Self.idPrefix[idPrefixSeen] {
                        idPrefixSeen += 1
                        state = .idLine
                    } else {
                        state = .skipLine
                    }
                } else if byte >= 48 && byte <= 57 {
                    idDigits = idDigits * 10 + Int64(byte - 48)
                } else {
                    state = .skipLine
                }
            case .skipLine:
                // Data lines are long: jump straight to the next newline.
                if let n = memchr(bytes + i - 1, 10, count - i + 1) {
                    i = bytes.distance(to: n.assumingMemoryBound(to: UInt8.self)) + 1
                    state = .lineStart
                    idPrefixSeen = 0
                    idDigits = 0
                } else {
                    i = count
                }
            }
        }
    }

    private mutating func finishHeader() throws(Failure) {
        let text = String(decoding: header, as: UTF8.self)
        let statusLine = text.prefix { $0 != "\r" }
        let parts = statusLine.split(separator: " ")
        status = parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
        guard status == 200 else { throw Failure(description: "SSE answer status \(status) (\(statusLine))") }
        if text.lowercased().contains("transfer-encoding: chunked") {
            throw Failure(description: "SSE answer is chunked; the scanner expects an HTTP/1.0 (unchunked) stream")
        }
        header = []
        state = .lineStart
    }

    /// The HTTP/1.0 request that opens a stream after `position`.
    static func request(port: Int, token: String, after position: Int64) -> [UInt8] {
        Array(("GET /v1/feed/stream?after=\(position) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\n"
               + "Authorization: Bearer \(token)\r\nAccept: text/event-stream\r\n\r\n").utf8)
    }
}
