import Telemetry

/// Builds a JSON object as UTF-8 bytes, embedding JSON that is already serialized (records,
/// sources) verbatim. Used on the feed's hot path instead of Codable; strings are quoted straight
/// into the buffer (the same escaping as `JSONText.quote`), with no String per value.
public struct JSONBuilder {
    private(set) var bytes: [UInt8]
    private var first = true

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    private mutating func key(_ name: String) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// `name` must be a plain ASCII key (no escaping is done for keys).
    public mutating func string(_ name: String, _ value: String?) {
        key(name)
        if let value { Self.quote(value, into: &bytes) } else { bytes.append(contentsOf: "null".utf8) }
    }

    public mutating func number<N: BinaryInteger>(_ name: String, _ value: N) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func raw(_ name: String, _ json: String) {
        key(name)
        bytes.append(contentsOf: json.utf8)
    }

    public mutating func strings(_ name: String, _ values: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.quote(v, into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Embeds another builder's object verbatim (no String in between).
    mutating func object(_ name: String, _ other: JSONBuilder) {
        key(name)
        bytes.append(contentsOf: other.bytes)
        bytes.append(UInt8(ascii: "}"))
    }

    /// The object's text (closed here: `bytes` stays open for more members).
    public var json: String {
        String(unsafeUninitializedCapacity: bytes.count + 1) { out in
            _ = out.initialize(from: bytes)
            out[bytes.count] = UInt8(ascii: "}")
            return bytes.count + 1
        }
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends the JSON string literal of `s`, exactly as `JSONText.quote` writes it.
    static func quote(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { quote(bytes: UnsafeRawBufferPointer($0), into: &out) }
    }

    /// `quote` of text given as UTF-8 bytes.
    static func quote(bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.append(0x22)
        quoteContent(bytes, into: &out)
        out.append(0x22)
    }

    /// `quote` of text given as UTF-8 bytes.
    static func quote(bytes: ArraySlice<UInt8>, into out: inout [UInt8]) {
        bytes.withUnsafeBytes { quote(bytes: $0, into: &out) }
    }

    /// The escaped content of a JSON string literal (no quotes around it).
    static func quoteContent(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        // Most values need no escaping: copy them in one go.
        guard bytes.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else {
            out.append(contentsOf: bytes)
            return
        }
        for b in bytes {
            switch b {
            case 0x22, 0x5C: out.append(0x5C); out.append(b)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(0x5C); out.append(UInt8(ascii: "u")); out.append(0x30); out.append(0x30)
                out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)])
            default: out.append(b)
            }
        }
    }

    /// `quoteContent` of a String's UTF-8.
    static func quoteContent(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { quoteContent(UnsafeRawBufferPointer($0), into: &out) }
    }
}
