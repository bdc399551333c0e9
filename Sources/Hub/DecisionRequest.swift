import HTTP
import JSON5

/// What an admin's decision request carries, read the same way by every route that takes one
/// (conflict decisions and corrections, match case links and rejections).
enum DecisionRequest {
    /// The request body as a JSON object; 400 `invalid_json` otherwise.
    static func body(_ request: Request) throws -> JSONObject {
        let value: JSONValue
        do { value = try JSON5.parseJSON(request.body, file: "body") } catch {
            throw HTTPError.badRequest("the body is not JSON: \(error)", code: "invalid_json")
        }
        guard let object = value.objectValue else { throw HTTPError.badRequest("the body must be a JSON object", code: "invalid_json") }
        return object
    }

    /// The decision's reason, required and at most 1,000 characters; it is kept with the decision
    /// and in the audit log.
    static func reason(_ text: String?) throws -> String {
        let reason = (text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw HTTPError.badRequest("give a reason: it is kept with the decision and in the audit log", code: "missing_reason") }
        guard reason.count <= 1000 else { throw HTTPError.badRequest("the reason is longer than 1000 characters", code: "invalid_argument") }
        return reason
    }
}
