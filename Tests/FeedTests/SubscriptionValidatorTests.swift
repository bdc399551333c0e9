@testable import Feed
import Testing

@Suite struct SubscriptionValidatorTests {
    let validator = SubscriptionValidator(catalog: realCatalog)

    @Test func reportsEveryProblemAtOnce() {
        let spec = SubscriptionSpec(name: " ", purpose: nil, resources: ["Person", "Nope", "person"],
                                    fields: ["Person": ["name", "shoe_size", "political_status"], "Household": ["division_code"]],
                                    area: ["51x", "5"], masking: ["Person.name": "loud", "Person.mobile": "plain", "name": "plain",
                                                                  "Person.political_status": "plain"],
                                    delivery: .init(mode: "webhook", url: "ftp://x", secrets: ["nope"]), status: "sleeping")
        do {
            _ = try validator.validate(spec)
            Issue.record("an invalid spec was accepted")
        } catch {
            let paths = Set(error.problems.map(\.path))
            for expected in ["name", "purpose", "resources[1]", "resources[2]", "fields[\"Person\"][1]", "fields[\"Person\"][2]",
                             "fields[\"Household\"]", "area[0]", "area[1]", "masking[\"Person.name\"]", "masking[\"Person.mobile\"]",
                             "masking[\"name\"]", "masking[\"Person.political_status\"]", "delivery.url", "delivery.secrets[0]", "status"] {
                #expect(paths.contains(expected), "missing problem at \(expected); got \(paths.sorted())")
            }
        }
    }

    @Test func areaNeedsADivisionField() {
        #expect(throws: SubscriptionInvalid.self) {
            _ = try validator.validate(SubscriptionSpec(name: "x", purpose: "y", resources: ["Disability"], area: ["510108"]))
        }
    }

    @Test func normalizesAndFillsDefaults() throws {
        let valid = try validator.validate(SubscriptionSpec(name: "  Community  ", purpose: "duty", resources: ["person"],
                                                            delivery: .init(mode: "webhook", url: "http://127.0.0.1:9/hook")))
        #expect(valid.name == "Community")
        #expect(valid.resources == ["Person"])
        #expect(valid.delivery?.secrets?.count == 1)
        #expect(WebhookSigner.secretBytes(valid.delivery!.secrets![0])?.count == 32)
    }
}
