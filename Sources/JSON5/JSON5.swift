/// Entry points for reading JSON5 configuration files and strict JSON records.
public enum JSON5 {
    /// Parses a JSON5 document (a catalog, mapping or configuration file) into a positioned tree.
    ///
    /// - Parameter file: the name used in error messages (`catalog/person.json5:12:7: ...`).
    public static func parseDocument(_ text: String, file: String) throws(JSON5Error) -> JSONNode {
        var text = text
        return try text.withUTF8 { buffer in
            Result { () throws(JSON5Error) in try parseDocument(UnsafeRawBufferPointer(buffer), file: file) }
        }.get()
    }

    /// Parses a JSON5 document from UTF-8 bytes (a leading byte-order mark is skipped).
    public static func parseDocument(_ bytes: [UInt8], file: String) throws(JSON5Error) -> JSONNode {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(JSON5Error) in try parseDocument(buffer, file: file) }
        }.get()
    }

    /// Parses a JSON5 document from UTF-8 bytes in memory.
    public static func parseDocument(_ bytes: UnsafeRawBufferPointer, file: String) throws(JSON5Error) -> JSONNode {
        var parser = JSON5DocumentParser(bytes)
        do {
            return try parser.parseDocument()
        } catch {
            throw JSON5Error(file: file, position: parser.position(error.offset), message: error.message)
        }
    }

    /// Parses one strict RFC 8259 JSON value from UTF-8 bytes: the fast per-record path.
    ///
    /// Pass a slice (`UnsafeRawBufferPointer(rebasing: all[start..<end])`) to parse one line of
    /// NDJSON without copying. Duplicate keys, invalid UTF-8, lone surrogates and trailing
    /// characters are errors; positions in errors are relative to the slice.
    public static func parseJSON(_ bytes: UnsafeRawBufferPointer, file: String = "<json>") throws(JSON5Error) -> JSONValue {
        var parser = StrictJSONParser(bytes)
        do {
            return try parser.parseDocument()
        } catch {
            throw JSON5Error(file: file, position: LineTable.position(of: error.offset, in: bytes), message: error.message)
        }
    }

    /// Parses one strict RFC 8259 JSON value from UTF-8 bytes.
    public static func parseJSON(_ bytes: [UInt8], file: String = "<json>") throws(JSON5Error) -> JSONValue {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(JSON5Error) in try parseJSON(buffer, file: file) }
        }.get()
    }

    /// Parses one strict RFC 8259 JSON value from a string.
    public static func parseJSON(_ text: String, file: String = "<json>") throws(JSON5Error) -> JSONValue {
        var text = text
        return try text.withUTF8 { buffer in
            Result { () throws(JSON5Error) in try parseJSON(UnsafeRawBufferPointer(buffer), file: file) }
        }.get()
    }
}
