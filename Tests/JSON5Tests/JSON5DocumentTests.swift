import Testing
@testable import JSON5

@Suite struct JSON5DocumentTests {
    func parse(_ text: String) throws -> JSONNode { try JSON5.parseDocument(text, file: "t.json5") }

    func error(_ text: String) -> JSON5Error? {
        do {
            _ = try JSON5.parseDocument(text, file: "catalog/person.json5")
            return nil
        } catch {
            return error
        }
    }

    @Test func acceptsEveryJSON5Feature() throws {
        let text = """
        // line comment
        /* block
           comment */
        {
          unquoted: 'single \\'quoted\\'',
          $dollar_1: "double",
          trailing: [1, 2, 3,],
          hex: 0x1F,
          negHex: -0xff,
          plus: +7,
          leading: .5,
          trailingDot: 5.,
          exp: 1e3,
          inf: Infinity,
          ninf: -Infinity,
          nan: NaN,
          cont: 'a\\
        b',
          esc: '\\x41\\v\\0\\u4E2D',
          nothing: null, yes: true, no: false,
          姓名: '张三',
        }
        """
        let node = try parse(text)
        let v = node.value
        #expect(v["unquoted"] == .string("single 'quoted'"))
        #expect(v["$dollar_1"] == .string("double"))
        #expect(v["trailing"] == .array([.number("1"), .number("2"), .number("3")]))
        #expect(v["hex"] == .number("31"))
        #expect(v["negHex"] == .number("-255"))
        #expect(v["plus"] == .number("7"))
        #expect(v["leading"] == .number("0.5"))
        #expect(v["trailingDot"] == .number("5"))
        #expect(v["exp"] == .number("1e3"))
        #expect(v["inf"]?.doubleValue == .infinity)
        #expect(v["ninf"]?.doubleValue == -.infinity)
        #expect(v["nan"]?.doubleValue?.isNaN == true)
        #expect(v["cont"] == .string("ab"))
        #expect(v["esc"] == .string("A\u{0B}\u{0}中"))
        #expect(v["nothing"] == .null)
        #expect(v["yes"] == .bool(true))
        #expect(v["no"] == .bool(false))
        #expect(v["姓名"] == .string("张三"))
        #expect(node.members?.map(\.key).first == "unquoted")
    }

    @Test func keysAndValuesKeepTheirPositions() throws {
        let node = try parse("{\n  name: 'x',\n    \"type\"  :\n [ 1,\n   true ] }")
        #expect(node.position == SourcePosition(line: 1, column: 1))
        let name = try #require(node.member("name"))
        #expect(name.keyPosition == SourcePosition(line: 2, column: 3))
        #expect(name.value.position == SourcePosition(line: 2, column: 9))
        let type = try #require(node.member("type"))
        #expect(type.keyPosition == SourcePosition(line: 3, column: 5))
        #expect(type.value.position == SourcePosition(line: 4, column: 2))
        #expect(type.value.arrayValue?[1].position == SourcePosition(line: 5, column: 4))
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let node = try parse("{ 性别: '男', 民族: 1 }")
        #expect(node.member("民族")?.keyPosition == SourcePosition(line: 1, column: 12))
        #expect(node.member("民族")?.value.position == SourcePosition(line: 1, column: 16))
    }

    @Test func codesWrittenAsStringsStayStrings() throws {
        #expect(try parse("{ code: '01' }").value["code"] == .string("01"))
        #expect(error("{ code: 01 }")?.message.contains("leading zeros") == true)
    }

    @Test func bigIntegersAreKeptAsText() throws {
        #expect(try parse("[110105194912310021, 12345678901234567890123]").value ==
                .array([.number("110105194912310021"), .number("12345678901234567890123")]))
    }

    @Test func unicodeEscapesAndSurrogatePairs() throws {
        #expect(try parse(#"'\u00e9\uD83D\uDE00\u4e2d'"#).value == .string("é😀中"))
        #expect(error(#"'\uD83D'"#)?.message.contains("unpaired surrogate") == true)
        #expect(error(#"'\uDE00x'"#)?.message.contains("unpaired surrogate") == true)
        #expect(error(#"'\u12'"#)?.message.contains("4 hex digits") == true)
    }

    @Test func gbCharactersPassThrough() throws {
        // U+3400 (CJK Ext A), U+20000 (Ext B), U+9FEF (a GB18030-2022 addition), U+3000 as whitespace.
        let node = try parse("\u{3000}{ n: '㐀𠀀鿯' }\u{3000}")
        #expect(node.value["n"] == .string("㐀𠀀鿯"))
    }

    @Test func errorsPointAtTheExactLineAndColumn() {
        let unterminated = error("{\n  name: 'abc\n}")
        #expect(unterminated?.position == SourcePosition(line: 2, column: 9))
        #expect(unterminated?.message.contains("unterminated string") == true)

        let badEscape = error("{ a: 'x\\1' }")
        #expect(badEscape?.position == SourcePosition(line: 1, column: 8))

        let garbage = error("{ a: 1 }\n  x")
        #expect(garbage?.position == SourcePosition(line: 2, column: 3))
        #expect(garbage?.message == "unexpected characters after the value")

        let colon = error("{\n  a 1\n}")
        #expect(colon?.position == SourcePosition(line: 2, column: 5))
        #expect(colon?.message == "expected ':' after key 'a'")

        let comma = error("{\n  a: 1\n  b: 2\n}")
        #expect(comma?.description == "catalog/person.json5:3:3: expected ',' or '}' after object member")

        let unclosed = error("{ a: [1, 2")
        #expect(unclosed?.position == SourcePosition(line: 1, column: 6))

        let comment = error("/* never closed\n{}")
        #expect(comment?.position == SourcePosition(line: 1, column: 1))
        #expect(error("")?.message.contains("end of input") == true)
        #expect(error("{ a: tru }") != nil)
        #expect(error("{ a: 12abc }") != nil)
        #expect(error("{ a: 0x }") != nil)
        #expect(error("{ 1a: 2 }") != nil)
    }

    @Test func duplicateKeysNameBothLines() {
        let e = error("{\n  name: 1,\n  other: 2,\n  name: 3,\n}")
        #expect(e?.position == SourcePosition(line: 4, column: 3))
        #expect(e?.message == "duplicate key 'name' (first defined at line 2)")
    }

    @Test func messagesDoNotQuoteValues() {
        let e = error("{ id: '11010519491231002X' x }")
        #expect(e != nil)
        #expect(e?.description.contains("11010519491231002X") == false)
    }

    @Test func invalidUTF8IsReportedWithItsPosition() {
        let bytes: [UInt8] = Array("{\n a: '".utf8) + [0xFF] + Array("' }".utf8)
        do {
            _ = try JSON5.parseDocument(bytes, file: "x.json5")
            Issue.record("expected an error")
        } catch {
            #expect(error.position == SourcePosition(line: 2, column: 6))
        }
    }

    @Test func byteOrderMarkAndCRLFLines() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("{\r\n a: 1,\r\n b: 2 }".utf8)
        let node = try JSON5.parseDocument(bytes, file: "x")
        #expect(node.member("b")?.keyPosition == SourcePosition(line: 3, column: 2))
    }
}

@Suite struct JSONAccessorTests {
    @Test func escapedIdentifierKeysAndUnicodeLetters() throws {
        let node = try JSON5.parseDocument(#"{ \u0061b: 1, _x$: 2, café: 3 }"#, file: "x")
        #expect(node.value.objectValue?.keys == ["ab", "_x$", "café"])
    }

    @Test func nodeAccessors() throws {
        let node = try JSON5.parseDocument("{ s: 'a', n: 12, b: true, z: null, a: [1], o: { k: 'v' } }", file: "x")
        #expect(node["s"]?.stringValue == "a")
        #expect(node["n"]?.intValue == 12)
        #expect(node["n"]?.numberText == "12")
        #expect(node["b"]?.boolValue == true)
        #expect(node["z"]?.isNull == true)
        #expect(node["a"]?.arrayValue?.count == 1)
        #expect(node["o"]?["k"]?.stringValue == "v")
        #expect(node["o"]?.kindName == "object")
        #expect(node["missing"] == nil)
        #expect(node["s"]?["k"] == nil)
    }

    @Test func objectsAreOrderedAndEditable() {
        var object: JSONObject = ["b": 1, "a": 2]
        object["c"] = "x"
        object["b"] = .bool(false)
        #expect(object.keys == ["b", "a", "c"])
        #expect(object["b"] == .bool(false))
        object["a"] = nil
        #expect(object.keys == ["b", "c"])
        #expect(JSONValue.object(object).jsonText() == #"{"b":false,"c":"x"}"#)
        let reordered: JSONObject = ["c": "x", "b": .bool(false)]
        #expect(object != reordered) // order is part of the value
    }

    @Test func valueAccessors() {
        let v: JSONValue = ["list": [1, "two", nil], "n": .number("1.5")]
        #expect(v["list"]?[1]?.stringValue == "two")
        #expect(v["list"]?[5] == nil)
        #expect(v["n"]?.doubleValue == 1.5)
        #expect(v["n"]?.intValue == nil)
        #expect(v["list"]?.kindName == "array")
    }
}
