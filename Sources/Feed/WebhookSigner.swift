import Foundation
import Secrets

/// Standard Webhooks signatures (https://www.standardwebhooks.com): `webhook-signature` is
/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret during a rotation, separated
/// by spaces. Secrets are `whsec_` + base64 of the key bytes.
public enum WebhookSigner {
    /// The key bytes of a `whsec_` secret, or nil when it is not one (24 to 64 bytes).
    public static func secretBytes(_ secret: String) -> [UInt8]? {
        guard secret.hasPrefix("whsec_"), let data = Data(base64Encoded: String(secret.dropFirst(6))),
              (24...64).contains(data.count) else { return nil }
        return [UInt8](data)
    }

    /// A new random secret of 32 bytes.
    public static func newSecret() -> String {
        "whsec_" + Data(Secrets.randomBytes(32)).base64EncodedString()
    }

    /// The `webhook-signature` header value for a message under every secret given.
    public static func signature(id: String, timestamp: Int64, body: [UInt8], secrets: [String]) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        return secrets.compactMap(secretBytes).map { key in
            "v1," + Data(Secrets.hmacSHA256(key: key, message: message)).base64EncodedString()
        }.joined(separator: " ")
    }

    /// The three Standard Webhooks headers for a message.
    public static func headers(id: String, timestamp: Int64, body: [UInt8], secrets: [String]) -> [(String, String)] {
        [("webhook-id", id), ("webhook-timestamp", String(timestamp)),
         ("webhook-signature", signature(id: id, timestamp: timestamp, body: body, secrets: secrets))]
    }
}
