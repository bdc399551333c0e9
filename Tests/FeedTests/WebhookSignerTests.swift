import Feed
import Foundation
import Testing

@Suite struct WebhookSignerTests {
    /// The example of the Standard Webhooks specification.
    @Test func matchesTheSpecificationExample() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let body = Array(#"{"test": 2432232314}"#.utf8)
        let signature = WebhookSigner.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1614265330, body: body, secrets: [secret])
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func signsWithEverySecretDuringRotation() {
        let a = WebhookSigner.newSecret(), b = WebhookSigner.newSecret()
        let both = WebhookSigner.signature(id: "i", timestamp: 1, body: [1, 2], secrets: [a, b])
        #expect(both.split(separator: " ").count == 2)
        #expect(WebhookSigner.secretBytes("whsec_short") == nil)
        #expect(WebhookSigner.secretBytes("nope") == nil)
    }
}
