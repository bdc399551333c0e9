/// One outgoing HTTP request.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Whole-transfer limit in seconds.
    public var timeout: Double
    /// Limit for establishing the connection, in seconds.
    public var connectTimeout: Double
    public var followRedirects: Bool
    public var basicAuthentication: (user: String, password: String)?
    /// PEM client certificate and key for mutual TLS.
    public var clientCertificate: (certificateFile: String, keyFile: String)?
    /// PEM bundle of the certificate authorities to trust instead of the system's.
    public var certificateAuthorityFile: String?

    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8] = [],
                timeout: Double = 30, connectTimeout: Double = 10, followRedirects: Bool = false) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.followRedirects = followRedirects
    }
}

/// A response as received: any status, headers in order, the whole body.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The last value of a header, compared without regard to case.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.last { $0.name.lowercased() == wanted }?.value
    }
}

/// No response: the request could not be completed.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case timeout, connectionRefused, hostNotFound, tls, responseTooLarge, other

        init(_ code: CURLcodeValue) {
            switch code {
            case 28: self = .timeout                                  // CURLE_OPERATION_TIMEDOUT
            case 7: self = .connectionRefused                         // CURLE_COULDNT_CONNECT
            case 6, 5: self = .hostNotFound                           // CURLE_COULDNT_RESOLVE_HOST / PROXY
            case 35, 53, 54, 58, 59, 60, 64, 66, 77, 80, 83, 90, 91: self = .tls
            default: self = .other
            }
        }
    }

    public var kind: Kind
    public var message: String
    /// The URL without its query string: queries may carry tokens.
    public var url: String

    init(kind: Kind, message: String, url: String) {
        self.kind = kind
        self.message = message
        self.url = String(url.prefix { $0 != "?" })
    }

    /// Whether trying again later can help (timeouts and refused connections usually pass).
    public var isRetriable: Bool { kind != .tls && kind != .responseTooLarge }

    public var description: String { "\(url): \(message)" }
}

typealias CURLcodeValue = UInt32
