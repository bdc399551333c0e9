import Testing
@testable import JSON5

@Suite struct StrictJSONTests {
    func error(_ text: String) -> JSON5Error? {
        do {
            _ = try JSON5.parseJSON(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesRecordsAndKeepsOrder() throws {
        let v = try JSON5.parseJSON(#"{"XM":"张三","XB":"1","GMSFHM":110105194912310021,"tags":[true,false,null,-1.5e-3],"o":{}}"#)
        #expect(v.objectValue?.keys == ["XM", "XB", "GMSFHM", "tags", "o"])
        #expect(v["GMSFHM"] == .number("110105194912310021"))
        #expect(v["tags"] == .array([.bool(true), .bool(false), .null, .number("-1.5e-3")]))
        #expect(v["o"] == .object(JSONObject()))
    }

    @Test func escapesAndSurrogates() throws {
        #expect(try JSON5.parseJSON(#""a\"b\\c\/d\b\f\n\r\t\u4E2D\ud83d\ude00""#) == .string("a\"b\\c/d\u{8}\u{c}\n\r\t中😀"))
        #expect(error(#""\ud83d""#)?.message.contains("surrogate") == true)
        #expect(error(#""\x41""#)?.message == "invalid escape sequence in string")
    }

    /// The record readers' settings: a shallower limit, repeated keys kept, and faults classed so a
    /// reader can refuse one record and go on.
    @Test func optionsAndFaultKinds() throws {
        func failure(_ text: String, _ options: StrictJSONParser.Options = .init()) -> ParseFailure? {
            var bytes = Array(text.utf8)
            return bytes.withUnsafeMutableBytes { buffer in
                var parser = StrictJSONParser(UnsafeRawBufferPointer(buffer), options: options)
                do throws(ParseFailure) { _ = try parser.parseDocument(); return nil } catch { return error }
            }
        }
        let records = StrictJSONParser.Options(maxDepth: 3, rejectsDuplicateKeys: false)
        #expect(failure(#"{"a":1,"a":2}"#)?.message == "duplicate key in object")
        #expect(failure(#"{"a":1,"a":2}"#, records) == nil)
        #expect(failure("[[[1]]]", records) == nil)
        #expect(failure("[[[[1]]]]", records)?.kind == .tooDeep)
        #expect(failure("[[[[1]]]]", records)?.offset == 3)
        #expect(failure(#"["a", 01]"#)?.kind == .local)
        #expect(failure(#"["\q"]"#)?.kind == .local)
        #expect(failure("[\"\u{01}\"]")?.kind == .local)
        #expect(failure(#"["a" "b"]"#)?.kind == .syntax)
        let badUTF8: [UInt8] = [0x5B, 0x22, 0xC4, 0xD0, 0x22, 0x5D]
        let encoding = badUTF8.withUnsafeBytes { buffer -> ParseFailure? in
            var parser = StrictJSONParser(buffer)
            do throws(ParseFailure) { _ = try parser.parseDocument(); return nil } catch { return error }
        }
        #expect(encoding?.kind == .encoding)
        #expect(encoding?.offset == 2)
        // A U+FFFD written in the text is fine; a truncated sequence that repairs to the same length is not.
        #expect(try JSON5.parseJSON("[\"a\u{FFFD}中\"]") == .array([.string("a\u{FFFD}中")]))
        let truncated: [UInt8] = [0x5B, 0x22, 0xE4, 0xB8, 0xAD, 0xF0, 0x90, 0x80, 0x22, 0x5D]
        #expect(throws: JSON5Error.self) { try JSON5.parseJSON(truncated) }
        #expect((try? JSON5.parseJSON(truncated)) == nil)
    }

    @Test func skipValueStepsOverOneValue() {
        let text = Array(#"{"a":[1,"]",{"b":"\""}]}, 2"#.utf8)
        text.withUnsafeBytes { buffer in
            var parser = StrictJSONParser(buffer)
            let skipped = parser.skipValue()
            #expect(skipped)
            #expect(parser.index == text.count - 3)
        }
    }

    @Test func rejectsJSON5Extensions() {
        #expect(error("{a:1}") != nil)
        #expect(error("[1,]") != nil)
        #expect(error("'x'") != nil)
        #expect(error("01") != nil)
        #expect(error(".5") != nil)
        #expect(error("1.") != nil)
        #expect(error("NaN") != nil)
        #expect(error("// c\n1") != nil)
        #expect(error("\"tab\there\"") != nil)
    }

    @Test func errorPositions() {
        let e = error("{\"a\":1,\n \"b\" 2}")
        #expect(e?.position == SourcePosition(line: 2, column: 6))
        #expect(e?.message == "expected ':' after object key")
        #expect(error("{\"a\":1} x")?.position == SourcePosition(line: 1, column: 9))
        #expect(error("{\"a\":1,\"a\":2}")?.message == "duplicate key in object")
        #expect(error("\"abc")?.message == "unterminated string")
        #expect(error("[1 2]")?.message == "expected ',' or ']' after array element")
        #expect(error("")?.description == "<json>:1:1: expected a JSON value, found end of input")
    }

    @Test func invalidUTF8IsAnError() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSON5Error.self) { try JSON5.parseJSON(bytes) }
    }

    @Test func parsesASliceOfALargerBuffer() throws {
        let all = Array("{\"a\":1}\n{\"b\":2}\n".utf8)
        let second = try all.withUnsafeBytes { buffer in
            try JSON5.parseJSON(UnsafeRawBufferPointer(rebasing: buffer[8..<15]))
        }
        #expect(second == ["b": 2])
    }

    @Test func deepNestingIsRejectedNotACrash() {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(error(text)?.message.contains("nesting") == true)
    }
}

@Suite struct JSONSerializerTests {
    @Test func roundTripsAndEscapesMinimally() throws {
        let text = #"{"b":"中\"\\\n\u0001","a":[1,true,null,110105194912310021]}"#
        let v = try JSON5.parseJSON(text)
        #expect(v.jsonText() == text)
        #expect(v.jsonText(sortedKeys: true) == #"{"a":[1,true,null,110105194912310021],"b":"中\"\\\n\u0001"}"#)
        #expect(try JSON5.parseJSON(v.jsonText()) == v)
    }

    @Test func nonFiniteNumbersBecomeNull() throws {
        let v = try JSON5.parseDocument("[Infinity, NaN, 1]", file: "x").value
        #expect(v.jsonText() == "[null,null,1]")
    }
}
