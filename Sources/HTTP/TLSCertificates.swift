import CMicroHTTPD
import Foundation

/// The PEM files an HTTPS server presents: the certificate chain (leaf first, then any
/// intermediates) and the leaf's private key (unencrypted: the service reads it at start and
/// on every reload, with no one to type a passphrase).
public struct TLSFiles: Sendable, Equatable {
    public var certificateFile: String
    public var keyFile: String

    public init(certificateFile: String, keyFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// Loads both files and checks that the key belongs to the certificate, as the server will;
    /// throws naming the file at fault. Lets a process fail before it starts anything else.
    public func check() throws(TLSCertificateError) {
        _ = try TLSCredentials(files: self)
    }
}

/// Why a certificate or key could not be used. The description names the file and the cause.
public struct TLSCertificateError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case missingFile, unreadableFile, badCertificate, badKey, keyMismatch
    }

    public let kind: Kind
    public let file: String
    public let reason: String

    public var description: String { "TLS: \(file): \(reason)" }
}

/// A loaded certificate chain and key (GnuTLS structures owned by this object).
final class TLSCredentials: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<ro_tls_credentials>

    /// Reads and checks both files; throws naming the file at fault.
    init(files: TLSFiles) throws(TLSCertificateError) {
        let certificate = try Self.read(files.certificateFile)
        let key = try Self.read(files.keyFile)
        var loaded: UnsafeMutablePointer<ro_tls_credentials>?
        var libraryError: Int32 = 0
        let result = certificate.withUnsafeBufferPointer { c in
            key.withUnsafeBufferPointer { k in
                ro_tls_credentials_load(c.baseAddress, UInt32(c.count), k.baseAddress, UInt32(k.count), &loaded, &libraryError)
            }
        }
        let detail = libraryError < 0 ? " (\(String(cString: ro_tls_error_text(libraryError))))" : ""
        switch Int(result) {
        case Int(RO_TLS_LOADED.rawValue):
            pointer = loaded!
        case Int(RO_TLS_BAD_CERTIFICATE.rawValue):
            throw TLSCertificateError(kind: .badCertificate, file: files.certificateFile,
                                      reason: "not a PEM X.509 certificate chain\(detail)")
        case Int(RO_TLS_BAD_KEY.rawValue):
            throw TLSCertificateError(kind: .badKey, file: files.keyFile,
                                      reason: "not an unencrypted PEM private key\(detail)")
        case Int(RO_TLS_KEY_MISMATCH.rawValue):
            throw TLSCertificateError(kind: .keyMismatch, file: files.keyFile,
                                      reason: "this key does not belong to the certificate in \(files.certificateFile)")
        default:
            throw TLSCertificateError(kind: .badKey, file: files.keyFile, reason: "out of memory while loading")
        }
    }

    deinit { ro_tls_credentials_free(pointer) }

    private static func read(_ path: String) throws(TLSCertificateError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TLSCertificateError(kind: .missingFile, file: path, reason: "no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TLSCertificateError(kind: .unreadableFile, file: path, reason: "cannot be read by this process (permissions?)")
        }
        return Array(data)
    }
}

/// Which credentials each HTTPS server of this process presents, by its local port.
///
/// GnuTLS asks for a certificate at every handshake through a callback that carries no context
/// pointer, so the callback finds its server by the port of the connection's socket. Replacing
/// a server's credentials (a reload) affects the handshakes that start afterwards; credentials
/// that were replaced stay alive until the server stops, since a handshake in progress may still
/// be using them (a few kilobytes per reload).
final class TLSCredentialRegistry: @unchecked Sendable {
    static let shared = TLSCredentialRegistry()

    /// Guards both tables.
    private let lock = NSLock()
    private var current: [Int: TLSCredentials] = [:]
    private var retired: [Int: [TLSCredentials]] = [:]

    func install(_ credentials: TLSCredentials, port: Int) {
        lock.withLock {
            if let old = current[port] { retired[port, default: []].append(old) }
            current[port] = credentials
        }
    }

    func remove(port: Int) {
        lock.withLock {
            current[port] = nil
            retired[port] = nil
        }
    }

    func credentials(port: Int) -> TLSCredentials? { lock.withLock { current[port] } }
}

/// GnuTLS's certificate callback (`gnutls_certificate_retrieve_function2`): the chain and key of
/// the server listening on the session's local port. The structures stay owned by the registry.
let tlsCertificateForHandshake: @convention(c) (
    OpaquePointer?, UnsafePointer<gnutls_datum_t>?, Int32, UnsafePointer<gnutls_pk_algorithm_t>?, Int32,
    UnsafeMutablePointer<UnsafeMutablePointer<gnutls_pcert_st>?>?, UnsafeMutablePointer<UInt32>?,
    UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 = { session, _, _, _, _, certificates, count, key in
    guard let session, let certificates, let count, let key else { return -1 }
    let port = Int(ro_tls_session_local_port(session))
    guard let credentials = TLSCredentialRegistry.shared.credentials(port: port) else { return -1 }
    withUnsafeMutablePointer(to: &credentials.pointer.pointee.certificates) { tuple in
        tuple.withMemoryRebound(to: gnutls_pcert_st.self, capacity: 16) { certificates.pointee = $0 }
    }
    count.pointee = credentials.pointer.pointee.count
    key.pointee = credentials.pointer.pointee.key
    return 0
}
