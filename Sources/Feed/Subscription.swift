import Foundation

/// A registered subscription as stored: its spec (validated), status and delivery secrets.
public struct Subscription: Sendable {
    /// Lifecycle: `active` receives events, `paused` receives nothing until resumed, `disabled`
    /// was stopped by the webhook dispatcher (410 Gone or failing too long), `deleted` is kept
    /// only so the audit log's references stay meaningful.
    public enum Status: String, Sendable, CaseIterable {
        case active, paused, disabled, deleted
    }

    public var id: String
    public var spec: SubscriptionSpec
    public var status: Status
    /// The key of this subscription's pseudonyms (never leaves the hub).
    public var pseudonymKey: [UInt8]
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, spec: SubscriptionSpec, status: Status, pseudonymKey: [UInt8], createdAt: Date, updatedAt: Date) {
        self.id = id
        self.spec = spec
        self.status = status
        self.pseudonymKey = pseudonymKey
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public var name: String { spec.name ?? "" }
    public var purpose: String { spec.purpose ?? "" }
    public var isWebhook: Bool { spec.delivery?.mode == "webhook" }
    /// Who the audit log says received a disclosure.
    public var auditActor: String { "subscription:" + id }
}
