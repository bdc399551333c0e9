import Feed
import Foundation
import Testing

@Suite struct EventProjectorTests {
    let base = SubscriptionSpec(name: "community", purpose: "community services", resources: ["Person"], area: ["510108001"])

    @Test func cloudEventEnvelopeAndDefaultMasking() throws {
        let p = try projector(base)
        let event = try #require(try decoded(p.project(change(42, personRecord))))
        #expect(event["specversion"] as? String == "1.0")
        #expect(event["id"] as? String == "42")
        #expect(event["type"] as? String == "org.recordonce.person.created")
        #expect(event["subject"] as? String == "Person/e1")
        #expect(event["datacontenttype"] as? String == "application/json")
        let data = try #require(event["data"] as? [String: Any])
        let record = try #require(data["record"] as? [String: Any])
        #expect(record["citizen_id"] as? String == "110105********002X")
        #expect(record["name"] as? String == "张**")
        #expect(record["mobile"] as? String == "138****5678")
        #expect(record["sex"] as? String == "1")
        #expect(record["date_of_birth"] == nil, "sensitive without a convention is omitted by default")
        #expect(record["political_status"] == nil, "not shared")
        #expect(!(data["changed_fields"] as! [String]).contains("political_status"))
    }

    @Test func grantsAndPseudonyms() throws {
        var spec = base
        spec.masking = ["Person.name": "plain", "Person.citizen_id": "pseudonymized", "Person.mobile": "omitted"]
        let event = try #require(try decoded(try projector(spec).project(change(1, personRecord))))
        let record = try #require((event["data"] as? [String: Any])?["record"] as? [String: Any])
        #expect(record["name"] as? String == "张三丰")
        #expect((record["citizen_id"] as? String)?.hasPrefix("ps_") == true)
        #expect(record["mobile"] == nil)
    }

    @Test func outsideTheAreaIsNotSent() throws {
        let elsewhere = personRecord.replacingOccurrences(of: "510108001001", with: "510108009001")
            .replacingOccurrences(of: "510108002003", with: "510108009002")
        #expect(try projector(base).project(change(1, elsewhere)) == nil)
        // The registered division alone places a person in the area too.
        let registeredHere = personRecord.replacingOccurrences(of: "510108001001", with: "510108009001")
            .replacingOccurrences(of: "510108002003", with: "510108001777")
        #expect(try projector(base).project(change(1, registeredHere)) != nil)
    }

    @Test func movingOutIsSentOnceAsARemoval() throws {
        let moved = personRecord.replacingOccurrences(of: "510108001001", with: "510108009001")
            .replacingOccurrences(of: "510108002003", with: "510108009002")
        let p = try projector(base, previous: ["e1#1": personRecord, "e1#2": moved])
        let removal = try #require(try decoded(p.project(change(2, moved, version: 2, operation: "updated",
                                                                changed: ["community_code", "registered_division", "current_address"]))))
        #expect(removal["type"] as? String == "org.recordonce.person.removed")
        let data = try #require(removal["data"] as? [String: Any])
        #expect(data["record"] is NSNull)
        #expect(!removal.description.contains("猛追湾"), "the removal carries no address")
        // A later change while outside is not sent again.
        #expect(try p.project(change(3, moved, version: 3, operation: "updated", changed: ["community_code"])) == nil)
    }

    @Test func movingInIsSentWhole() throws {
        let outside = personRecord.replacingOccurrences(of: "510108001001", with: "510108009001")
            .replacingOccurrences(of: "510108002003", with: "510108009002")
        var spec = base
        spec.fields = ["Person": ["name", "sex"]]
        let p = try projector(spec, previous: ["e1#1": outside])
        let event = try #require(try decoded(p.project(change(2, personRecord, version: 2, operation: "updated", changed: ["community_code"]))))
        let data = try #require(event["data"] as? [String: Any])
        #expect(data["area_change"] as? String == "entered")
        #expect(Set(((data["record"] as? [String: Any]) ?? [:]).keys) == ["name", "sex"])
    }

    @Test func changesOutsideTheFieldsAreNotSent() throws {
        var spec = base
        spec.fields = ["Person": ["name", "community_code"]]
        let p = try projector(spec)
        #expect(try p.project(change(5, personRecord, version: 2, operation: "updated", changed: ["mobile"])) == nil)
        #expect(try p.project(change(6, personRecord, version: 3, operation: "updated", changed: ["mobile", "name"])) != nil)
        #expect(try projector(SubscriptionSpec(name: "n", purpose: "p", resources: ["Household"])).project(change(7, personRecord)) == nil)
    }

    @Test func sourcesDropSourceKeysAndHiddenFields() throws {
        let sources = """
        [{"adapter":"police","department":"police","source_key":"11010519491231002X","mapping":"police-hukou","mapping_version":3,
          "observed_at":"2026-01-01T00:00:00Z","fields":["name","political_status"]},
         {"adapter":"health","department":"health","source_key":"H1","fields":["political_status"]}]
        """
        let event = try #require(try projector(base).project(change(1, personRecord, sources: sources)))
        #expect(!event.json.contains("11010519491231002X"))
        #expect(!event.json.contains("source_key"))
        #expect(!event.json.contains("\"health\""), "a source that only gave hidden fields is not listed")
    }
}
