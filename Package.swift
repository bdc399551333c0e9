// swift-tools-version:6.0
// RecordOnce: the data-exchange hub between district department systems and community platforms.
// No Swift package dependencies: Foundation plus Debian C libraries through system-library targets.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "RecordOnce",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "recordonce", targets: ["recordonce"]),
    ],
    targets: [
        // C libraries: module map + shim header each, nothing else.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSystem"),

        // Hashes, HMAC, random tokens and constant-time comparison over libcrypto.
        .target(name: "Secrets", dependencies: ["CCrypto"], swiftSettings: strict),
        // Logging and Prometheus metrics shared by every module.
        .target(name: "Telemetry", swiftSettings: strict),
        // PostgreSQL: libpq wrapper, pool, migrations, embedded cluster.
        .target(name: "Store", dependencies: ["CLibPQ", "CSystem", "Telemetry"], swiftSettings: strict),
        // HTTP server on libmicrohttpd: router, JSON helpers, streaming, errors.
        .target(name: "HTTP", dependencies: ["CMicroHTTPD", "CSystem", "Telemetry"], swiftSettings: strict),
        // JSON5 / JSON values with source positions (configuration files, mapping files, fast record parsing).
        .target(name: "JSON5", swiftSettings: strict),
        // The canonical catalog: resources, fields, code tables, identifier rules (pure).
        .target(name: "Catalog", dependencies: ["JSON5"], swiftSettings: strict),
        // Source records and their wire formats: JSON, NDJSON, CSV (UTF-8/GB18030), XML.
        .target(name: "SourceFormats", dependencies: ["JSON5", "CLibXML2"], swiftSettings: strict),
        // Declarative mappings: spec -> compiled plan -> canonical records + issues; validation; tests.
        .target(name: "Mapping", dependencies: ["Catalog", "SourceFormats", "JSON5"], swiftSettings: strict),
        // Outgoing HTTP over libcurl: pull adapters and webhook delivery.
        .target(name: "HTTPClient", dependencies: ["CCurl"], swiftSettings: strict),
        // Adapters: declarations (adapters/*.json5), registration, scheduling with leases, the pull
        // kinds (one folder each: http-json, soap-xml, csv-drop, postgres-table), push receiving.
        .target(name: "Adapters", dependencies: ["JSON5", "Secrets", "Store", "HTTPClient", "CLibXML2", "SourceFormats", "Telemetry"], swiftSettings: strict),
        // Record once: identity resolution, survivorship, provenance, history, rejects, ingest.
        .target(name: "RecordStore", dependencies: ["Store", "Catalog", "Mapping", "SourceFormats", "JSON5", "Secrets", "Telemetry"], swiftSettings: strict),
        // The change feed: subscriptions, scopes, masking, CloudEvents, pull/SSE/webhook delivery, audit.
        .target(name: "Feed", dependencies: ["RecordStore", "Store", "Catalog", "Secrets", "Telemetry", "JSON5", "HTTP", "HTTPClient"], swiftSettings: strict),
        // A synthetic district and its departments' systems, for the demo, the tests and the benchmarks.
        .target(name: "DemoDepartments", dependencies: ["Catalog", "Secrets", "HTTP", "HTTPClient", "Store", "Telemetry"], swiftSettings: strict),
        // Wiring: API, auth, lifecycle.
        .target(name: "Hub", dependencies: ["RecordStore", "Adapters", "Feed", "HTTPClient", "Store", "HTTP", "Telemetry", "Secrets", "Catalog", "Mapping"],
                resources: [.copy("Resources/openapi.json"), .copy("Resources/console")], swiftSettings: strict),
        // Small command-line framework (subcommands, options, generated --help).
        .target(name: "CLIKit", swiftSettings: strict),
        .executableTarget(name: "recordonce", dependencies: ["Hub", "HTTP", "CSystem", "JSON5", "Adapters", "Feed", "CLIKit", "Store", "Telemetry", "Catalog", "Mapping", "SourceFormats", "RecordStore", "DemoDepartments"], swiftSettings: strict),
        // Benchmarks (run in release: `swift run -c release recordonce-bench --help`); figures go to docs/benchmarks.md.
        .executableTarget(name: "recordonce-bench", dependencies: ["Catalog", "Feed", "Mapping", "SourceFormats", "JSON5", "Store", "Telemetry", "HTTPClient", "DemoDepartments"], swiftSettings: strict),

        .testTarget(name: "DemoDepartmentsTests", dependencies: ["DemoDepartments", "Catalog", "Mapping", "SourceFormats"], swiftSettings: strict),
        .testTarget(name: "AdaptersTests", dependencies: ["Adapters", "JSON5", "SourceFormats"], swiftSettings: strict),
        .testTarget(name: "RecordStoreTests", dependencies: ["RecordStore"], swiftSettings: strict),
        .testTarget(name: "SecretsTests", dependencies: ["Secrets"], swiftSettings: strict),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry"], swiftSettings: strict),
        .testTarget(name: "CLIKitTests", dependencies: ["CLIKit"], swiftSettings: strict),
        .testTarget(name: "JSON5Tests", dependencies: ["JSON5"], swiftSettings: strict),
        .testTarget(name: "CatalogTests", dependencies: ["Catalog", "JSON5"], swiftSettings: strict),
        .testTarget(name: "SourceFormatsTests", dependencies: ["SourceFormats", "JSON5"], swiftSettings: strict),
        .testTarget(name: "MappingTests", dependencies: ["Mapping", "Catalog", "SourceFormats", "JSON5"], swiftSettings: strict),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "HTTP", "Telemetry"], swiftSettings: strict),
        .testTarget(name: "FeedTests", dependencies: ["Feed", "Catalog", "JSON5", "Secrets", "Store"], swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "Telemetry"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["Store", "Hub", "HTTP", "HTTPClient", "Telemetry", "RecordStore", "Adapters", "Feed", "Mapping", "SourceFormats", "Secrets", "DemoDepartments", "Catalog"], swiftSettings: strict),
    ]
)
