import Testing
@testable import Catalog

@Suite struct DateParserTests {
    func date(_ text: String) -> IdentifierResult { DateParser.normalizeDate(text, today: fixedToday) }
    func dateTime(_ text: String) -> IdentifierResult { DateParser.normalizeDateTime(text, today: fixedToday) }

    @Test(arguments: ["19850312", "1985-03-12", "1985/3/12", "1985.3.12", "1985年3月12日", "1985年03月12日",
                      "1985年3月12", "850312", "31118", "31118.75", "1985-03-12T10:20:30Z", "1985-03-12 10:20",
                      "19850312103000", "１９８５－０３－１２", " 1985-03-12 "])
    func everyShapeOfTheStandards(_ text: String) {
        #expect(normalized(date(text)) == "1985-03-12")
    }

    @Test func warningsSayHowTheDateWasRead() {
        #expect(warnings(date("850312")) == [.centuryInferred])
        #expect(warnings(date("31118")) == [.excelSerial])
        #expect(warnings(date("1985-03-12")).isEmpty)
    }

    @Test func twoDigitYearCenturyRule() {
        #expect(normalized(date("260101")) == "2026-01-01")
        #expect(normalized(date("270101")) == "1927-01-01")
        #expect(normalized(date("000229")) == "2000-02-29")
    }

    @Test func excelSerialsUseThe1900System() {
        #expect(normalized(date("1")) == "1900-01-01")
        #expect(normalized(date("59")) == "1900-02-28")
        #expect(rejection(date("60")) == .invalidDate) // Excel's fake 1900-02-29
        #expect(normalized(date("61")) == "1900-03-01")
        #expect(normalized(date("45000")) == "2023-03-15")
        #expect(rejection(date("0")) == .invalidDate)
    }

    @Test func invalidCalendarDatesAreRejected() {
        #expect(rejection(date("1985-02-30")) == .invalidDate)
        #expect(rejection(date("19850230")) == .invalidDate)
        #expect(rejection(date("1985-13-01")) == .invalidDate)
        #expect(rejection(date("1900-02-29")) == .invalidDate)
        #expect(rejection(date("850230")) == .invalidDate)
        #expect(rejection(date("1985年2月30日")) == .invalidDate)
        #expect(normalized(date("2000-02-29")) == "2000-02-29")
    }

    @Test func unrecognizedShapesAreRejected() {
        #expect(rejection(date("1985-3/12")) == .unrecognizedFormat)
        #expect(rejection(date("12/03/1985")) == .unrecognizedFormat)
        #expect(rejection(date("1985031")) == .unrecognizedFormat)
        #expect(rejection(date("March 12")) == .unrecognizedFormat)
        #expect(rejection(date("一九八五年三月十二日")) == .unrecognizedFormat)
        #expect(rejection(date("")) == .empty)
        #expect(rejection(date("1985-03-12T25:00")) == .invalidTime)
    }

    @Test func dateTimesGetAZone() {
        #expect(normalized(dateTime("1985-03-12 10:20")) == "1985-03-12T10:20:00+08:00")
        #expect(normalized(dateTime("1985-03-12T10:20:30Z")) == "1985-03-12T10:20:30+00:00")
        #expect(normalized(dateTime("1985-03-12T10:20:30.123-0530")) == "1985-03-12T10:20:30-05:30")
        #expect(normalized(dateTime("19850312103000")) == "1985-03-12T10:30:00+08:00")
        #expect(normalized(dateTime("1985-03-12")) == "1985-03-12T00:00:00+08:00")
        #expect(normalized(dateTime("1985年3月12日 08:05:09")) == "1985-03-12T08:05:09+08:00")
        #expect(rejection(dateTime("1985-03-12T10:60")) == .invalidTime)
        #expect(rejection(dateTime("1985-03-12T10:20+25:00")) == .invalidTime)
    }

    @Test func civilDateArithmetic() {
        let d = CivilDate(year: 1985, month: 3, day: 12)!
        #expect(CivilDate(daysSinceEpoch: d.daysSinceEpoch) == d)
        #expect(CivilDate(year: 1970, month: 1, day: 1)!.daysSinceEpoch == 0)
        #expect(CivilDate(daysSinceEpoch: -1).description == "1969-12-31")
        #expect(CivilDate(year: 2023, month: 2, day: 29) == nil)
    }
}

@Suite struct TextNormalizerTests {
    @Test func foldsFullWidthFormsAndIdeographicSpace() {
        #expect(TextNormalizer.fold("\u{3000}ＡＢＣ１２３ｘ\u{3000}") == "ABC123x")
        #expect(TextNormalizer.fold("张\u{3000}三") == "张 三")
        #expect(TextNormalizer.fold("成华区建设路１２号") == "成华区建设路12号")
        #expect(TextNormalizer.fold("\u{FEFF}王五") == "王五")
        #expect(TextNormalizer.fold("a\u{2003}b\u{200B}c\u{00A0}") == "a bc")
        #expect(TextNormalizer.fold("！～｛｝＠") == "!~{}@")
        #expect(TextNormalizer.fold("ｚ") == "z")
        #expect(TextNormalizer.fold("\u{FF5F}") == "\u{FF5F}") // white parenthesis: not an ASCII form, kept
    }

    @Test func asciiFastPathTrimsOnly() {
        #expect(TextNormalizer.fold("  abc \t") == "abc")
        #expect(TextNormalizer.fold("abc") == "abc")
        #expect(TextNormalizer.fold("   ") == "")
        #expect(TextNormalizer.fold("") == "")
    }

    @Test func rareCharactersSurvive() {
        #expect(TextNormalizer.fold(" 𠀀㐀鿯 ") == "𠀀㐀鿯")
    }

    @Test func collapsingInnerSpaces() {
        #expect(TextNormalizer.foldCollapsingSpaces("成华区　 建设路\t 12号") == "成华区 建设路 12号")
    }
}
