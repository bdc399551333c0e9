import Testing
@testable import Catalog

let fixedToday = CivilDate(year: 2026, month: 11, day: 22)!

func normalized(_ result: IdentifierResult) -> String? {
    if case .success(let v) = result { v.normalized } else { nil }
}

func rejection(_ result: IdentifierResult) -> IdentifierRejection? {
    if case .failure(let r) = result { r } else { nil }
}

func warnings(_ result: IdentifierResult) -> [IdentifierWarning] {
    if case .success(let v) = result { v.warnings } else { [] }
}

/// A citizen ID with a correct check character for the given first 17 digits.
func withCheck(_ first17: String) -> String { first17 + String(CitizenID.checkCharacter(for: first17)!) }

@Suite struct CitizenIDTests {
    func check(_ text: String) -> IdentifierResult { CitizenID.normalize(text, today: fixedToday) }

    @Test(arguments: ["11010519491231002X", "440524188001010014", "34052419800101001X"])
    func standardExamplesAreValid(_ id: String) {
        #expect(normalized(check(id)) == id)
        #expect(warnings(check(id)).isEmpty)
        #expect(CitizenID.isValid(id, today: fixedToday))
    }

    @Test func checkCharacterIsISO7064() {
        #expect(CitizenID.checkCharacter(for: "11010519491231002") == "X")
        #expect(CitizenID.checkCharacter(for: "44052418800101001") == "4")
        #expect(CitizenID.checkCharacter(for: "1101051949123100") == nil)
    }

    @Test func foldsWidthCaseAndBlanks() {
        #expect(normalized(check("１１０１０５１９４９１２３１００２Ｘ")) == "11010519491231002X")
        #expect(normalized(check("11010519491231002x")) == "11010519491231002X")
        #expect(normalized(check("\u{3000} 11010519491231002X ")) == "11010519491231002X")
    }

    @Test func fifteenDigitNumbersAreUpgraded() {
        let result = check("110105491231002")
        #expect(normalized(result) == "11010519491231002X")
        #expect(warnings(result) == [.upgradedFromLegacy15])
    }

    @Test func sequences996To999AreFlaggedForReview() {
        let result = check("110105491231996")
        #expect(normalized(result) != nil)
        #expect(warnings(result).contains(.centuryNeedsReview))
        #expect(!warnings(check("110105491231995")).contains(.centuryNeedsReview))
    }

    @Test func wrongCheckCharacterIsRejected() {
        #expect(rejection(check("110105194912310021")) == .checkCharacterMismatch)
        #expect(rejection(check("440524188001010015")) == .checkCharacterMismatch)
    }

    @Test func impossibleBirthDatesAreRejected() {
        #expect(rejection(check(withCheck("11010519800230001"))) == .invalidBirthDate) // Feb 30
        #expect(rejection(check(withCheck("11010519811301001"))) == .invalidBirthDate) // month 13
        #expect(rejection(check(withCheck("11010517991231001"))) == .invalidBirthDate) // before 1800
        #expect(rejection(check(withCheck("11010520300101001"))) == .futureBirthDate)
        #expect(rejection(check(withCheck("11010520261123001"))) == .futureBirthDate) // tomorrow
        #expect(normalized(check(withCheck("11010520261122001"))) != nil) // born today
        #expect(normalized(check(withCheck("11010520000229001"))) != nil) // leap day
        #expect(rejection(check(withCheck("11010519000229001"))) == .invalidBirthDate) // 1900 not leap
        #expect(rejection(check("110105800230001")) == .invalidBirthDate) // 15-digit, Feb 30
    }

    @Test func unknownProvincesAreRejected() {
        #expect(rejection(check(withCheck("99010519491231002"))) == .unknownProvince)
        #expect(rejection(check(withCheck("00010519491231002"))) == .unknownProvince)
        #expect(rejection(check(withCheck("16010519491231002"))) == .unknownProvince)
        // A county that no longer exists is fine: only the province is checked.
        #expect(normalized(check(withCheck("51019919491231002"))) != nil)
    }

    @Test(arguments: ["1.10105E+17", "1.10105194912310E+17", "1.10105e17", "110105194912310000", "11010519491231002.0"])
    func excelDamageIsRejectedAsSuch(_ value: String) {
        #expect(rejection(check(value)) == .excelDamaged)
        #expect(IdentifierRejection.excelDamaged.description.contains("spreadsheet"))
    }

    @Test func aValidNumberThatHappensToEndIn000IsNotExcelDamage() throws {
        // Find a valid number whose last three characters are 000, so the rule never rejects a real one.
        var found: String?
        for month in 1...12 {
            for day in 1...28 where found == nil {
                let first17 = "5101081985" + String(format2: month) + String(format2: day) + "100"
                if CitizenID.checkCharacter(for: first17) == "0" { found = first17 + "0" }
            }
        }
        let id = try #require(found)
        #expect(normalized(check(id)) == id)
    }

    @Test func wrongLengthsAndCharacters() {
        #expect(rejection(check("1101051949123100")) == .wrongLength)
        #expect(rejection(check("11010519491231002X1")) == .wrongLength)
        #expect(rejection(check("11010519491231002A")) == .invalidCharacter)
        #expect(rejection(check("1101051949X231002X")) == .invalidCharacter)
        #expect(rejection(check("11010519491231002和")) == .invalidCharacter)
        #expect(rejection(check("11010549123100X")) == .invalidCharacter)
        #expect(rejection(check("")) == .empty)
        #expect(rejection(check("   ")) == .empty)
    }

    @Test func rejectionDescriptionsNeverHoldTheValue() {
        for reason in IdentifierRejection.allCases {
            #expect(!reason.description.contains("1101"))
        }
    }
}

@Suite struct SocialCreditCodeTests {
    @Test func workedExampleFromTheStandard() {
        #expect(SocialCreditCode.checkCharacter(for: "91350100M000100Y4") == "3")
        let result = SocialCreditCode.normalize("91350100M000100Y43")
        #expect(normalized(result) == "91350100M000100Y43")
        #expect(warnings(result).isEmpty)
    }

    @Test func foldsCaseAndWidth() {
        #expect(normalized(SocialCreditCode.normalize(" 91350100m000100y43 ")) == "91350100M000100Y43")
        #expect(normalized(SocialCreditCode.normalize("９１３５０１００Ｍ０００１００Ｙ４３")) == "91350100M000100Y43")
    }

    @Test func failedCheckIsAWarningNotARejection() {
        let result = SocialCreditCode.normalize("91350100M000100Y44")
        #expect(normalized(result) == "91350100M000100Y44")
        #expect(warnings(result) == [.checkCharacterMismatch])
    }

    @Test func badAlphabetAndLengthAreRejected() {
        #expect(rejection(SocialCreditCode.normalize("91350100I000100Y43")) == .invalidCharacter) // I
        #expect(rejection(SocialCreditCode.normalize("91350100O000100Y43")) == .invalidCharacter) // O
        #expect(rejection(SocialCreditCode.normalize("9135010-M000100Y43")) == .invalidCharacter)
        #expect(rejection(SocialCreditCode.normalize("91350100M000100Y4")) == .wrongLength)
        #expect(rejection(SocialCreditCode.normalize("")) == .empty)
    }
}

@Suite struct PhoneNumberTests {
    @Test(arguments: ["13812345678", "+86 138-1234-5678", "0086 13812345678", "8613812345678", "138 1234 5678",
                      "(+86)138.1234.5678", "１３８１２３４５６７８"])
    func mobilesAreNormalized(_ value: String) {
        #expect(normalized(PhoneNumber.normalizeMobile(value)) == "13812345678")
    }

    @Test func badMobiles() {
        #expect(rejection(PhoneNumber.normalizeMobile("12812345678")) == .unrecognizedFormat)
        #expect(rejection(PhoneNumber.normalizeMobile("23812345678")) == .unrecognizedFormat)
        #expect(rejection(PhoneNumber.normalizeMobile("1381234567")) == .wrongLength)
        #expect(rejection(PhoneNumber.normalizeMobile("138123456789")) == .wrongLength)
        #expect(rejection(PhoneNumber.normalizeMobile("138abc45678")) == .invalidCharacter)
        #expect(rejection(PhoneNumber.normalizeMobile("")) == .empty)
    }

    @Test func landlinesAreNormalized() {
        #expect(normalized(PhoneNumber.normalizeLandline("010-12345678")) == "010-12345678")
        #expect(normalized(PhoneNumber.normalizeLandline("(028)85551234")) == "028-85551234")
        #expect(normalized(PhoneNumber.normalizeLandline("02885551234")) == "028-85551234")
        #expect(normalized(PhoneNumber.normalizeLandline("0755-1234567")) == "0755-1234567")
        #expect(normalized(PhoneNumber.normalizeLandline("+86 28 85551234")) == "028-85551234")
        #expect(normalized(PhoneNumber.normalizeLandline("028-85551234-123")) == "028-85551234-123")
        #expect(normalized(PhoneNumber.normalizeLandline("028 8555 1234 转 123")) == "028-85551234-123")
        #expect(normalized(PhoneNumber.normalizeLandline("028-85551234 ext. 9")) == "028-85551234-9")
        #expect(normalized(PhoneNumber.normalizeLandline("０２８－８５５５１２３４")) == "028-85551234")
    }

    @Test func badLandlines() {
        #expect(rejection(PhoneNumber.normalizeLandline("85551234")) == .invalidAreaCode)
        #expect(rejection(PhoneNumber.normalizeLandline("028-05551234")) == .unrecognizedFormat)
        #expect(rejection(PhoneNumber.normalizeLandline("028-555123")) == .wrongLength)
        #expect(rejection(PhoneNumber.normalizeLandline("028-855512345")) == .wrongLength)
        #expect(rejection(PhoneNumber.normalizeLandline("028-8555abcd")) == .invalidCharacter)
    }

    @Test func phoneTakesEither() {
        #expect(normalized(PhoneNumber.normalize("13812345678")) == "13812345678")
        #expect(normalized(PhoneNumber.normalize("028-85551234")) == "028-85551234")
        #expect(rejection(PhoneNumber.normalize("028-555")) == .wrongLength)
        #expect(IdentifierRule.phone.normalize("010 1234 5678").map(\.normalized) == .success("010-12345678"))
    }
}

extension String {
    init(format2 value: Int) { self = value < 10 ? "0\(value)" : "\(value)" }
}

@Suite struct DisabilityCertificateTests {
    func check(_ text: String) -> IdentifierResult { DisabilityCertificate.normalize(text, today: fixedToday) }

    @Test func validCertificateIsCitizenIDPlusCategoryAndGrade() {
        #expect(normalized(check("11010519491231002X41")) == "11010519491231002X41")
        #expect(normalized(check("11010519491231002x74")) == "11010519491231002X74")
        #expect(normalized(IdentifierRule.disabilityCertificate.normalize("４４０５２４１８８００１０１００１４１１", today: fixedToday)) == "44052418800101001411")
    }

    @Test func badCertificates() {
        #expect(rejection(check("11010519491231002X81")) == .invalidCategoryOrGrade) // category 8
        #expect(rejection(check("11010519491231002X45")) == .invalidCategoryOrGrade) // grade 5
        #expect(rejection(check("11010519491231002X40")) == .invalidCategoryOrGrade)
        #expect(rejection(check("11010519491231002141")) == .checkCharacterMismatch)
        #expect(rejection(check("11010519491231002X4")) == .wrongLength)
        #expect(rejection(check("11010519491231002X4A")) == .invalidCharacter)
        #expect(rejection(check("")) == .empty)
    }
}
