import Foundation
import HTTPClient
import JSON5

/// Pulls pages of JSON records from a department's REST API.
///
/// Each page's body is the answer as received (the mapping reads its records at the same path
/// as `records`). The checkpoint saved with a page is a `PullPosition`: mid-run it holds the
/// next page's position, so a restart continues there; the last page of a run carries only
/// the new watermark (the largest `checkpointField` value seen). After that last page the next
/// call returns nil, which ends the run; the call after starts a new run.
///
/// Page and offset pagination over data that changes during the run can skip a record (a record
/// that changed moves to the end, the ones behind it move up a place). With `keyField`, a key seen
/// twice in one run reveals such a shift, and the run then keeps its starting watermark, so the
/// next run reads the same range again (landing makes the repeats no-ops).
final class HTTPJSONSource: PullSource, @unchecked Sendable {
    let settings: HTTPJSONSettings
    let context: PullContext
    let client: HTTPClient
    private let lock = NSLock()
    private var runEnded = false
    private var seenKeys: Set<String> = []
    private var shifted = false

    init(settings: HTTPJSONSettings, context: PullContext, client: HTTPClient = HTTPClient()) {
        self.settings = settings
        self.context = context
        self.client = client
    }

    func nextPage(after checkpoint: String?) throws(PullFailure) -> PulledPage? {
        lock.lock()
        defer { lock.unlock() }
        if runEnded {
            runEnded = false
            seenKeys.removeAll()
            shifted = false
            return nil
        }
        var position = PullPosition(checkpoint: checkpoint)
        if position.since == nil, !settings.initialCheckpoint.isEmpty { position.since = settings.initialCheckpoint }
        if position.isBetweenRuns {
            seenKeys.removeAll()
            shifted = false
        }
        let url = requestURL(position)
        let name = PullTemplate.pageName(method: "GET", url: url)
        let request = try settings.http.request(method: "GET", url: url, extraHeaders: [("Accept", "application/json")], context: context)
        let response: HTTPClientResponse
        do {
            response = try client.send(request)
        } catch {
            throw HTTPFailureClassifier.failure(error, page: name)
        }
        if let failure = HTTPFailureClassifier.failure(status: response.status, response: response, page: name) { throw failure }

        // JSON is UTF-8 (RFC 8259); a system that answers in GBK needs fixing at its end, and the
        // same page would fail every time: an admin must act.
        if let offset = firstInvalidUTF8(response.body) {
            throw PullFailure(.permanent, "\(name): the answer is not UTF-8 (first invalid byte at offset \(offset)); JSON must be UTF-8, check the system's character set")
        }
        let document: JSONValue
        do {
            document = try JSON5.parseJSON(response.body, file: name)
        } catch {
            throw PullFailure(.retriable, "\(name): the answer is not valid JSON at line \(error.position.line), column \(error.position.column) (\(error.message)); \(response.body.count) bytes received")
        }
        guard let recordsValue = jsonValue(at: settings.records, in: document) else {
            throw PullFailure(.permanent, "\(name): the answer has no records at '\(settings.records)' (check pull.records)")
        }
        guard let records = recordsValue.arrayValue else {
            throw PullFailure(.permanent, "\(name): '\(settings.records)' is not an array of records (it is \(recordsValue.kindName))")
        }

        // The run's watermark so far.
        var highest = position.max
        if let field = settings.checkpointField {
            for record in records {
                guard let value = scalarText(jsonValue(at: field, in: record)) else { continue }
                if highest == nil || checkpointValue(value, isAfter: highest!) { highest = value }
            }
        }
        // Keys count as seen once their page is stored (`didStore`): a page fetched again after a
        // failed store is not a shift.
        var pageKeys: [String] = []
        if let keyField = settings.keyField, settings.pagination.shiftsWithChanges {
            for record in records {
                guard let key = scalarText(jsonValue(at: keyField, in: record)) else { continue }
                if seenKeys.contains(key) { shifted = true }
                pageKeys.append(key)
            }
        }
        let token = pageKeys.isEmpty ? nil : pageKeys.joined(separator: "\u{1F}")

        var nextPosition = position
        nextPosition.max = highest
        var last = records.isEmpty
        switch settings.pagination {
        case .none:
            last = true
        case .page(let first):
            nextPosition.page = (position.page ?? first) + 1
            if let size = settings.pageSize, records.count < size { last = true }
        case .offset:
            nextPosition.offset = (position.offset ?? 0) + records.count
            if let size = settings.pageSize, records.count < size { last = true }
        case .nextLink(let path):
            if let link = scalarText(jsonValue(at: path, in: document)), !link.isEmpty {
                nextPosition.next = URL(string: link, relativeTo: URL(string: url))?.absoluteString ?? link
            } else {
                last = true
            }
        case .cursor(let path):
            if let token = scalarText(jsonValue(at: path, in: document)), !token.isEmpty {
                nextPosition.cursor = token
            } else {
                last = true
            }
        }
        guard last else {
            return PulledPage(body: response.body, name: name, checkpoint: nextPosition.text, token: token)
        }
        // The run is over: the watermark moves to the highest value seen, unless a page shifted.
        var final = PullPosition(since: position.since)
        if !shifted, let highest { final.since = highest }
        let finalText = final.since == nil ? nil : final.text
        if records.isEmpty && finalText == checkpoint { return nil }
        runEnded = true
        return PulledPage(body: response.body, name: name, checkpoint: finalText, token: token)
    }

    func didStore(_ page: PulledPage) throws(PullFailure) {
        guard let token = page.token else { return }
        lock.withLock { for key in token.split(separator: "\u{1F}") { seenKeys.insert(String(key)) } }
    }

    /// The URL of the request at `position`.
    func requestURL(_ position: PullPosition) -> String {
        if let next = position.next { return next }
        var values = ["checkpoint": position.since ?? settings.initialCheckpoint]
        if case .page(let first) = settings.pagination { values["page"] = String(position.page ?? first) }
        values["offset"] = String(position.offset ?? 0)
        values["cursor"] = position.cursor ?? ""
        if let size = settings.pageSize { values["pageSize"] = String(size) }
        return PullTemplate.fill(settings.url, values, escape: PullTemplate.urlEscape)
    }
}

/// The offset of the first byte that is not valid UTF-8, or nil when all of it is (a sequence
/// cut short by the end counts as valid here).
func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
    var i = 0
    let count = bytes.count
    while i < count {
        let b = bytes[i]
        if b < 0x80 { i += 1; continue }
        let length: Int
        if b >= 0xC2 && b <= 0xDF { length = 2 } else if b >= 0xE0 && b <= 0xEF { length = 3 } else if b >= 0xF0 && b <= 0xF4 { length = 4 } else { return i }
        for j in (i + 1)..<min(i + length, count) where bytes[j] & 0xC0 != 0x80 { return i }
        // A sequence cut by the end of the answer is a truncation, which the JSON parser reports.
        i += length
    }
    return nil
}
