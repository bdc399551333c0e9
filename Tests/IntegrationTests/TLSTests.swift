import Feed
import Foundation
import HTTP
import HTTPClient
@testable import Hub
import Store
import Testing

/// TLS in both directions, with a throwaway certificate authority made by the `openssl` command:
/// the hub serving HTTPS (and reloading its certificate), and webhook delivery verifying the
/// subscriber's certificate.
@Suite struct TLSTests {
    @Test func hubServesHTTPSAndReloadsItsCertificateWithoutARestart() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        // The hub reads these paths on start and on every reload.
        let certificate = pki.folder + "/served.pem", key = pki.folder + "/served.key"
        try pki.install(pki.authorityA, as: certificate, key)
        let hub = try TestHub(configure: { $0.tls = TLSFiles(certificateFile: certificate, keyFile: key) })
        let url = "https://127.0.0.1:\(hub.hub.port)/healthz"

        // A client trusting authority A gets an answer; one on the system trust store refuses the
        // certificate (the test authority is not in it); plain HTTP gets no HTTP answer.
        #expect(try TLSClient.get(url, authority: pki.authorityA.caFile).status == 200)
        #expect(TLSClient.failure(url, authority: nil) == .tls)
        #expect(TLSClient.failure(url, authority: pki.authorityB.caFile) == .tls)
        #expect(TLSClient.failure("http://127.0.0.1:\(hub.hub.port)/healthz", authority: nil) != nil)

        // A reload with a key that does not belong to the certificate is refused, naming the key
        // file, and the server keeps presenting the old certificate.
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.copyItem(atPath: pki.authorityB.serverKey, toPath: key)
        let mismatch = #expect(throws: TLSCertificateError.self) { try hub.hub.reloadCertificates() }
        #expect(mismatch?.kind == .keyMismatch)
        #expect(mismatch?.description.contains(key) == true)
        #expect(try TLSClient.get(url, authority: pki.authorityA.caFile).status == 200)

        // A certificate from authority B replaces it without a restart: new handshakes see it.
        try pki.install(pki.authorityB, as: certificate, key)
        try hub.hub.reloadCertificates()
        #expect(try TLSClient.get(url, authority: pki.authorityB.caFile).status == 200)
        #expect(TLSClient.failure(url, authority: pki.authorityA.caFile) == .tls)
    }

    /// Long-polls and SSE streams suspend their connections; over TLS too.
    @Test func longPollsAndStreamsWorkOverHTTPS() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let files = TLSFiles(certificateFile: pki.authorityA.serverCertificate, keyFile: pki.authorityA.serverKey)
        let hub = try TestHub(configure: { $0.tls = files; $0.feed.heartbeatInterval = 0.5 })
        let base = "https://127.0.0.1:\(hub.hub.port)"
        var create = HTTPClientRequest(method: "POST", url: base + "/v1/subscriptions",
                                       headers: [("Authorization", "Bearer \(hub.adminToken)"), ("Content-Type", "application/json")],
                                       body: Array(try JSONSerialization.data(withJSONObject: FeedDeliveryTests.everything)))
        create.certificateAuthorityFile = pki.authorityA.caFile
        let created = try HTTPClient().send(create)
        #expect(created.status == 201)
        let token = try #require(FeedTesting.json(String(decoding: created.body, as: UTF8.self))["token"] as? String)

        let stream = try SSEReader(url: base + "/v1/feed/stream", token: token, curlArguments: ["--cacert", pki.authorityA.caFile])
        defer { stream.close() }
        let authority = pki.authorityA.caFile
        // The long-poll runs on its own thread and the events are appended without an `await` in
        // between: under the parallel suite the cooperative pool can be starved for seconds, and a
        // resumption after the long-poll's deadline made it answer empty (a failed CI run).
        let answered = DispatchSemaphore(value: 0)
        let result = Locked<Result<HTTPClientResponse, any Error>?>(nil)
        Thread.detachNewThread {
            var request = HTTPClientRequest(url: base + "/v1/feed?after=0&wait=30", headers: [("Authorization", "Bearer \(token)")], timeout: 45)
            request.certificateAuthorityFile = authority
            let sent = Result { try HTTPClient().send(request) }
            result.withValue { $0 = sent }
            answered.signal()
        }
        Thread.sleep(forTimeInterval: 0.3)
        try FeedTesting.append(hub, FeedTesting.personEvents(0..<3) { _ in "510108001001" })
        answered.wait()
        let answer = try #require(result.current).get()
        #expect(answer.status == 200)
        #expect(String(decoding: answer.body, as: UTF8.self).contains(#""id":"1""#))
        let streamed = stream.read(events: 3, timeout: 10)
        #expect(streamed.events.map(\.id) == [1, 2, 3])
    }

    @Test func missingUnreadableOrMismatchedFilesAreNamedAtStart() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        func startError(_ files: TLSFiles) -> TLSCertificateError? {
            do {
                let server = HTTPServer(port: 0, router: Router(), threads: 1, tls: files, logger: .silent)
                try server.start()
                server.stop()
                return nil
            } catch {
                return error as? TLSCertificateError
            }
        }
        let a = pki.authorityA
        let missing = startError(TLSFiles(certificateFile: pki.folder + "/nope.pem", keyFile: a.serverKey))
        #expect(missing?.kind == .missingFile)
        #expect(missing?.description == "TLS: \(pki.folder)/nope.pem: no such file")
        // Tests run as root, who can read any file: a folder stands in for an unreadable file.
        let unreadable = startError(TLSFiles(certificateFile: a.serverCertificate, keyFile: pki.folder))
        #expect(unreadable?.kind == .unreadableFile)
        let notACertificate = startError(TLSFiles(certificateFile: a.serverKey, keyFile: a.serverKey))
        #expect(notACertificate?.kind == .badCertificate)
        let notAKey = startError(TLSFiles(certificateFile: a.serverCertificate, keyFile: a.serverCertificate))
        #expect(notAKey?.kind == .badKey)
        let mismatched = startError(TLSFiles(certificateFile: a.serverCertificate, keyFile: pki.authorityB.serverKey))
        #expect(mismatched?.kind == .keyMismatch)
        #expect(mismatched?.description.contains(pki.authorityB.serverKey) == true)
        #expect(startError(TLSFiles(certificateFile: a.serverCertificate, keyFile: a.serverKey)) == nil)

        // `serve` stops before it starts a database, naming the file (exit status 1).
        let serve = try Binary.run(["serve", "--port", "0", "--data-dir", pki.folder + "/data",
                                    "--tls-cert", a.serverCertificate, "--tls-key", pki.authorityB.serverKey])
        #expect(serve.status == 1)
        #expect(serve.stderr.contains("TLS: \(pki.authorityB.serverKey): this key does not belong to the certificate in \(a.serverCertificate)"),
                "\(serve.stderr)")
        #expect(!FileManager.default.fileExists(atPath: pki.folder + "/data/postgres"), "a database was started anyway")
    }

    @Test func webhookDeliveryVerifiesTheSubscribersCertificate() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let trusted = try WebhookReceiver(tls: TLSFiles(certificateFile: pki.authorityA.serverCertificate, keyFile: pki.authorityA.serverKey))
        defer { trusted.stop() }
        let impostor = try WebhookReceiver(tls: TLSFiles(certificateFile: pki.authorityB.serverCertificate, keyFile: pki.authorityB.serverKey))
        defer { impostor.stop() }
        let hub = try FeedTesting.hub()
        var spec = FeedDeliveryTests.everything

        // An http URL cannot name a CA file, and a CA file must be readable by the hub.
        spec["delivery"] = ["mode": "webhook", "url": "http://127.0.0.1:1/hook", "ca_file": pki.authorityA.caFile]
        let plain = try await httpRequest(hub.base + "/v1/subscriptions", method: "POST", token: hub.adminToken,
                                          body: try JSONSerialization.data(withJSONObject: spec))
        #expect(plain.status == 400 && plain.text.contains("delivery.ca_file"), "\(plain.text)")
        spec["delivery"] = ["mode": "webhook", "url": trusted.url, "ca_file": pki.folder + "/absent.pem"]
        let absent = try await httpRequest(hub.base + "/v1/subscriptions", method: "POST", token: hub.adminToken,
                                           body: try JSONSerialization.data(withJSONObject: spec))
        #expect(absent.status == 400 && absent.text.contains("cannot read"), "\(absent.text)")

        // Verified against the subscription's own authority: delivered.
        spec["delivery"] = ["mode": "webhook", "url": trusted.url, "ca_file": pki.authorityA.caFile]
        let (good, _, body) = try await FeedTesting.subscribe(hub, spec)
        #expect((body["delivery"] as? [String: Any])?["ca_file"] as? String == pki.authorityA.caFile)
        // A certificate from another authority, and the test authority against the system store: refused.
        spec["delivery"] = ["mode": "webhook", "url": impostor.url, "ca_file": pki.authorityA.caFile]
        let (wrongAuthority, _, _) = try await FeedTesting.subscribe(hub, spec)
        spec["delivery"] = ["mode": "webhook", "url": trusted.url]
        let (systemStore, _, _) = try await FeedTesting.subscribe(hub, spec)

        try FeedTesting.append(hub, FeedTesting.personEvents(0..<5) { _ in "510108001001" })
        #expect(trusted.wait(for: 5, timeout: 20).map(\.position) == Array(1...5))
        let refused = try await Self.waitForFailures([wrongAuthority, systemStore], hub: hub)
        for id in [wrongAuthority, systemStore] {
            let row = try #require(refused[id])
            #expect(row.position == 0, "a refused endpoint's position moved")
            #expect(row.error.lowercased().contains("certificate") || row.error.contains("SSL"), "\(row.error)")
        }
        #expect(impostor.wait(for: 1, timeout: 0.5).isEmpty, "the impostor received an event")
        #expect(trusted.wait(for: 6, timeout: 0.5).count == 5, "the system-store subscription reached the endpoint")
        _ = good
    }

    /// The delivery rows of `ids` once each has recorded a failure.
    static func waitForFailures(_ ids: [String], hub: TestHub) async throws -> [String: (position: Int64, error: String)] {
        var rows: [String: (position: Int64, error: String)] = [:]
        for _ in 0..<200 {
            rows = [:]
            for row in try hub.hub.pool.withConnection({ try $0.query(
                "SELECT subscription_id, position, last_error FROM webhook_deliveries WHERE last_error IS NOT NULL") }).rows {
                rows[try row.decode(String.self, "subscription_id")] = (try row.decode(Int64.self, "position"),
                                                                      try row.decode(String.self, "last_error"))
            }
            if ids.allSatisfy({ rows[$0] != nil }) { return rows }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return rows
    }
}

/// HTTPS requests through the project's libcurl client.
enum TLSClient {
    static func get(_ url: String, authority: String?) throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url, timeout: 10, connectTimeout: 5)
        request.certificateAuthorityFile = authority
        return try HTTPClient().send(request)
    }

    /// The kind of failure, or nil when an HTTP answer came back.
    static func failure(_ url: String, authority: String?) -> HTTPClientError.Kind? {
        do {
            _ = try get(url, authority: authority)
            return nil
        } catch let error as HTTPClientError {
            return error.kind
        } catch {
            return .other
        }
    }
}

/// Two throwaway certificate authorities (A and B), each with a server certificate for
/// 127.0.0.1 and localhost, made with the `openssl` command (a missing command fails the test).
struct TestPKI {
    struct Authority {
        let caFile: String
        let serverCertificate: String
        let serverKey: String
    }

    let folder: String
    let authorityA: Authority
    let authorityB: Authority

    init() throws {
        folder = try temporaryFolder("ro-pki")
        try Data("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n".utf8)
            .write(to: URL(fileURLWithPath: folder + "/server.ext"))
        authorityA = try Self.authority("a", in: folder)
        authorityB = try Self.authority("b", in: folder)
    }

    private static func authority(_ name: String, in folder: String) throws -> Authority {
        let p = folder + "/" + name
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(["req", "-x509"] + ec + ["-keyout", p + "-ca.key", "-out", p + "-ca.pem", "-days", "2",
                                             "-subj", "/CN=RecordOnce test CA \(name)"])
        try openssl(["req"] + ec + ["-keyout", p + "-server.key", "-out", p + "-server.csr", "-subj", "/CN=127.0.0.1"])
        try openssl(["x509", "-req", "-in", p + "-server.csr", "-CA", p + "-ca.pem", "-CAkey", p + "-ca.key",
                     "-CAcreateserial", "-out", p + "-server.pem", "-days", "2", "-extfile", folder + "/server.ext"])
        return Authority(caFile: p + "-ca.pem", serverCertificate: p + "-server.pem", serverKey: p + "-server.key")
    }

    /// Copies an authority's server certificate and key to the given paths (replacing them).
    func install(_ authority: Authority, as certificate: String, _ key: String) throws {
        for (from, to) in [(authority.serverCertificate, certificate), (authority.serverKey, key)] {
            try? FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: from, toPath: to)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    struct Failure: Error, CustomStringConvertible { let description: String }

    static func openssl(_ arguments: [String]) throws {
        guard let path = ["/usr/bin/openssl", "/bin/openssl"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw Failure(description: "the openssl command is missing (Debian package openssl, installed by deploy/setup)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(text)")
        }
    }
}
