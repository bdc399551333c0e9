/// What an admin sends to create or change a subscription (`POST /v1/subscriptions`,
/// `PUT /v1/subscriptions/{id}`, `recordonce subscription create`).
///
/// Every member is optional when decoding so that validation can report every problem at once
/// instead of stopping at the first missing member. On `PUT`, members left out keep their value.
public struct SubscriptionSpec: Codable, Sendable, Equatable {
    /// A human-readable name ("Community 510108001001 platform").
    public var name: String?
    /// The legal basis of the disclosure, recorded with every disclosure in the audit log.
    public var purpose: String?
    /// Catalog resources the subscriber receives (`["Person", "Household"]`).
    public var resources: [String]?
    /// Per resource, the fields the subscriber receives; a resource not listed gets all its fields
    /// (each under its masking policy).
    public var fields: [String: [String]]?
    /// Division-code prefixes (2 to 12 digits). A record is in the area when one of its division
    /// fields (for a Person: the current community or the registered division) starts with one.
    /// Empty or missing: the whole hub.
    public var area: [String]?
    /// Per `Resource.field`, how it is disclosed (`plain`, `masked`, `pseudonymized`, `omitted`).
    /// Fields not named get the least-privilege default (`FieldPolicy.leastPrivilege`).
    public var masking: [String: String]?
    /// Pull (the subscriber reads `/v1/feed`) or webhook (the hub posts to `url`).
    public var delivery: Delivery?
    /// `active` or `paused` (a paused subscription's token still works for nothing).
    public var status: String?

    /// How events reach the subscriber.
    public struct Delivery: Codable, Sendable, Equatable {
        /// `pull` or `webhook`.
        public var mode: String?
        /// The webhook endpoint (http or https).
        public var url: String?
        /// Standard Webhooks signing secrets (`whsec_` + base64). Several during a rotation: the
        /// hub signs with each. Generated when a webhook subscription gives none.
        public var secrets: [String]?
        /// https endpoints: a PEM bundle (absolute path on the hub's machines) of the certificate
        /// authorities that may sign the endpoint's certificate, used instead of the system trust
        /// store. Either way the certificate chain and host name are verified.
        public var caFile: String?

        enum CodingKeys: String, CodingKey {
            case mode, url, secrets
            case caFile = "ca_file"
        }

        public init(mode: String? = nil, url: String? = nil, secrets: [String]? = nil, caFile: String? = nil) {
            self.mode = mode
            self.url = url
            self.secrets = secrets
            self.caFile = caFile
        }
    }

    public init(name: String? = nil, purpose: String? = nil, resources: [String]? = nil, fields: [String: [String]]? = nil,
                area: [String]? = nil, masking: [String: String]? = nil, delivery: Delivery? = nil, status: String? = nil) {
        self.name = name
        self.purpose = purpose
        self.resources = resources
        self.fields = fields
        self.area = area
        self.masking = masking
        self.delivery = delivery
        self.status = status
    }

    /// This spec with the members `change` gives replacing ours (for `PUT`).
    public func merged(with change: SubscriptionSpec) -> SubscriptionSpec {
        var out = self
        if let v = change.name { out.name = v }
        if let v = change.purpose { out.purpose = v }
        if let v = change.resources { out.resources = v }
        if let v = change.fields { out.fields = v }
        if let v = change.area { out.area = v }
        if let v = change.masking { out.masking = v }
        if let v = change.status { out.status = v }
        if let d = change.delivery {
            var delivery = out.delivery ?? Delivery()
            if let v = d.mode { delivery.mode = v }
            if let v = d.url { delivery.url = v }
            if let v = d.secrets { delivery.secrets = v }
            if let v = d.caFile { delivery.caFile = v.isEmpty ? nil : v }
            out.delivery = delivery
        }
        return out
    }
}
