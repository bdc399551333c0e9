import Foundation
import HTTP
import Telemetry

/// The social insurance system (社会保险信息系统) as a SOAP 1.1 service with aac-style field codes.
///
/// `POST /ws/PersonInsurance`, operation `queryPersonInsurance`: the request's `since` element
/// (an `AAE036` stamp, `yyyy-MM-dd HH:mm:ss.SSS`, or `0` for everything) and `pageSize` select
/// the `AC01` rows changed after it, in change order (keyset paging). The answer is the same
/// envelope as the district's `social-security.xml`, each `AC01` with its `AAE036`, plus
/// `<hasMore>`. A request without `since` gets a `soap:Client` fault.
public final class SocialSecurityService: @unchecked Sendable {
    public let table: ChangeStampedTable
    public let faults = DemoFaults()
    public let service: DepartmentHTTPService
    public static let path = "/ws/PersonInsurance"
    public static let namespace = "http://si.example.gov.cn/ws"

    init(table: ChangeStampedTable, host: String, port: Int, logger: Logger) {
        self.table = table
        let router = Router(defaultBodyLimit: 64 << 10)
        service = DepartmentHTTPService(host: host, port: port, router: router, logger: logger)
        router.add(.POST, Self.path) { [weak self] request in self?.query(request) ?? Self.fault("soap:Server", "service stopped") }
    }

    public var endpointURL: String { service.baseURL + Self.path }

    /// The request envelope the `social-security` adapter posts (`{checkpoint}`, `{pageSize}` filled by the pull).
    public static let requestTemplate = """
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:si="http://si.example.gov.cn/ws"><soap:Body><si:queryPersonInsurance><si:since>{checkpoint}</si:since><si:pageSize>{pageSize}</si:pageSize></si:queryPersonInsurance></soap:Body></soap:Envelope>
        """

    func query(_ request: Request) -> Response {
        switch faults.take() {
        case .unavailable(let after)?:
            let response = Response.text("service unavailable", status: 503)
            return after.map { response.withHeader("Retry-After", String($0)) } ?? response
        case .tooManyRequests(let after)?:
            return Response.text("too many requests", status: 429).withHeader("Retry-After", String(after))
        case .unauthorized?:
            return Response.text("unauthorized", status: 401)
        case .soapFault(let code, let message)?:
            return Self.fault(code, message)
        case .notWellFormed?, .truncatedBody?:
            var response = answer(request)
            if case .bytes(let bytes) = response.body { response.body = .bytes(Array(bytes.prefix(max(1, bytes.count * 2 / 3)))) }
            return response
        default:
            return answer(request)
        }
    }

    private func answer(_ request: Request) -> Response {
        let body = String(decoding: request.body, as: UTF8.self)
        guard let sinceText = Self.element("since", in: body) else {
            return Self.fault("soap:Client", "queryPersonInsurance: the since element is missing")
        }
        var after: Int64?
        if sinceText != "0" && !sinceText.isEmpty {
            guard let ms = StampText.milliseconds(sinceText) else { return Self.fault("soap:Client", "queryPersonInsurance: since is not an AAE036 time stamp") }
            after = ms
        }
        let size = min(5000, max(1, Int(Self.element("pageSize", in: body) ?? "") ?? 500))
        let (entries, total) = table.page(after: after, limit: size)
        var out: [UInt8] = []
        out.reserveCapacity(entries.count * 700 + 512)
        out.append(contentsOf: """
            <?xml version="1.0" encoding="UTF-8"?>
            <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
              <soap:Body>
                <queryPersonInsuranceResponse xmlns="\(Self.namespace)">
                  <resultCode>0</resultCode>

            """.utf8)
        for entry in entries {
            RecordEncoding.appendXML(element: "AC01", entry.record.fields + [SourceField("AAE036", ChangeClock.spaced(entry.stamp))],
                                     indent: "      ", to: &out)
        }
        out.append(contentsOf: """
                  <total>\(entries.count)</total>
                  <hasMore>\(total > entries.count ? "true" : "false")</hasMore>
                </queryPersonInsuranceResponse>
              </soap:Body>
            </soap:Envelope>

            """.utf8)
        return .bytes(out, contentType: "text/xml; charset=utf-8")
    }

    /// The text of the first element with this local name (any prefix), e.g. `<si:since>`.
    static func element(_ name: String, in body: String) -> String? {
        for open in [":\(name)>", "<\(name)>"] {
            guard let start = body.range(of: open) else { continue }
            guard let end = body.range(of: "</", range: start.upperBound..<body.endIndex) else { return nil }
            return body[start.upperBound..<end.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return nil
    }

    static func fault(_ code: String, _ message: String) -> Response {
        var text: [UInt8] = []
        RecordEncoding.appendXMLText(message, to: &text)
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>\(code)</faultcode><faultstring>\(String(decoding: text, as: UTF8.self))</faultstring></soap:Fault></soap:Body></soap:Envelope>
            """
        return .text(xml, status: 500, contentType: "text/xml; charset=utf-8")
    }
}
