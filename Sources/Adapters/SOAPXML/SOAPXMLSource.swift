import CLibXML2
import Foundation
import HTTPClient
import JSON5

/// Pulls pages of records from a department's SOAP service: POSTs the envelope with the
/// checkpoint filled in, checks the answer (transport, HTTP status, well-formedness, SOAP
/// fault), finds the records with XPath and hands the answer on as the page body (the mapping
/// reads the same record elements). Each page's checkpoint is its largest change stamp.
final class SOAPXMLSource: PullSource, @unchecked Sendable {
    let settings: SOAPXMLSettings
    let context: PullContext
    let client: HTTPClient
    private let lock = NSLock()
    private var runEnded = false

    init(settings: SOAPXMLSettings, context: PullContext, client: HTTPClient = HTTPClient()) {
        self.settings = settings
        self.context = context
        self.client = client
    }

    func nextPage(after checkpoint: String?) throws(PullFailure) -> PulledPage? {
        lock.lock()
        defer { lock.unlock() }
        if runEnded {
            runEnded = false
            return nil
        }
        let since = (checkpoint?.isEmpty ?? true) ? settings.initialCheckpoint : checkpoint!
        let envelope = PullTemplate.fill(settings.envelope, ["checkpoint": since, "pageSize": String(settings.pageSize)],
                                         escape: PullTemplate.xmlEscape)
        let name = PullTemplate.pageName(method: "POST", url: settings.url) + " (after \(since))"
        var headers = [("Content-Type", "text/xml; charset=utf-8")]
        if let action = settings.action { headers.append(("SOAPAction", "\"\(action)\"")) }
        let request = try settings.http.request(method: "POST", url: settings.url, body: Array(envelope.utf8),
                                                extraHeaders: headers, context: context)
        let response: HTTPClientResponse
        do {
            response = try client.send(request)
        } catch {
            throw HTTPFailureClassifier.failure(error, page: name)
        }
        // A SOAP fault comes with status 500 (1.1) or 4xx/5xx (1.2): read the body before the status.
        let document: XPathDocument
        do {
            document = try XPathDocument(bytes: response.body, namespaces: settings.namespaces)
        } catch {
            if let failure = HTTPFailureClassifier.failure(status: response.status, response: response, page: name) { throw failure }
            throw PullFailure(.retriable, "\(name): the answer is not well-formed XML (line \(error.line): \(error.message)); \(response.body.count) bytes received")
        }
        if let fault = Self.fault(in: document) {
            let client = fault.code.hasSuffix("Client") || fault.code.hasSuffix("Sender")
            throw PullFailure(client ? .permanent : .retriable,
                              "\(name): SOAP fault \(fault.code.isEmpty ? "" : "(\(fault.code)) ")\(fault.string)")
        }
        if let failure = HTTPFailureClassifier.failure(status: response.status, response: response, page: name) { throw failure }
        guard let records = document.nodes(settings.records) else {
            throw PullFailure(.permanent, "\(name): pull.records does not evaluate")
        }
        if records.isEmpty { return nil }
        var highest: String?
        for record in records {
            guard let value = document.string(settings.checkpointField, relativeTo: record), !value.isEmpty else { continue }
            if highest == nil || checkpointValue(value, isAfter: highest!) { highest = value }
        }
        guard let highest else {
            throw PullFailure(.permanent, "\(name): no record has a value at pull.checkpointField, so the next page cannot be asked for")
        }
        if let more = settings.more {
            runEnded = document.string("boolean(\(more))") != "true"
        } else {
            runEnded = records.count < settings.pageSize
        }
        if !checkpointValue(highest, isAfter: since) && !runEnded {
            throw PullFailure(.permanent, "\(name): a full page whose change stamps do not pass the checkpoint: the service ignores {checkpoint} or more than pageSize records share one stamp")
        }
        let body = settings.fields.isEmpty ? response.body : project(records, in: document)
        return PulledPage(body: body, name: name, checkpoint: highest)
    }

    func didStore(_ page: PulledPage) throws(PullFailure) {}

    /// The records as a JSON array of objects, one member per `fields` entry (the XPath's string
    /// value; null when it selects nothing).
    func project(_ records: [xmlNodePtr], in document: XPathDocument) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (i, record) in records.enumerated() {
            var object = JSONObject()
            for (name, expression) in settings.fields {
                let selected = document.nodes("(\(expression))[1]", relativeTo: record)
                let value: JSONValue = (selected?.isEmpty ?? true) ? .null : .string(document.string(expression, relativeTo: record) ?? "")
                object.members.append(.init(key: name, value: value))
            }
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONValue.object(object).writeJSON(to: &out)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// The fault code and string of a SOAP 1.1 or 1.2 fault, if the answer is one.
    static func fault(in document: XPathDocument) -> (code: String, string: String)? {
        guard let faults = document.nodes("//*[local-name()='Fault']"), let fault = faults.first else { return nil }
        let code = document.string("normalize-space(*[local-name()='faultcode'] | *[local-name()='Code']/*[local-name()='Value'])", relativeTo: fault) ?? ""
        var text = document.string("normalize-space(*[local-name()='faultstring'] | *[local-name()='Reason']/*[local-name()='Text'])", relativeTo: fault) ?? ""
        if text.isEmpty { text = "with no fault string" }
        return (code, text)
    }
}
