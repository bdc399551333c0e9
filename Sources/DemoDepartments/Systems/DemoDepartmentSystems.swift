import Foundation
import Telemetry

/// How the simulated department systems run.
public struct DemoDepartmentConfiguration: Sendable {
    /// Residents of the shared district (the demo's default is small enough to load in seconds).
    public var residents = 20_000
    public var seed: UInt64 = 510108
    public var messiness = Messiness.realistic
    /// Address the HTTP systems listen on, and their ports (0: any free port).
    public var host = "127.0.0.1"
    public var policePort = 0
    public var socialSecurityPort = 0
    /// The bearer token the police API requires (nil: none).
    public var policeToken: String? = "demo-police-register-token"
    /// Where civil affairs drops its files (one subfolder per register).
    public var dropFolder: String
    /// The hub's base URL (`http://127.0.0.1:8080`): health pushes to `/v1/ingest/health-records`
    /// there. nil: health does not push.
    public var hubURL: String?
    /// Health's push token (the `health-records` adapter's token).
    public var healthToken: String?
    /// Population changes per minute (0: none).
    public var changesPerMinute: Double = 60
    /// Seconds between civil affairs drops of new registrations.
    public var dropInterval: Double = 10
    /// Seconds between health pushes.
    public var pushInterval: Double = 2

    public init(dropFolder: String) { self.dropFolder = dropFolder }
}

/// Where the running systems can be reached: what the demo's adapter declarations point at.
public struct DemoDepartmentEndpoints: Sendable {
    /// `GET` URL of the police register's persons list (no query).
    public var policePersonsURL: String
    public var policeToken: String?
    /// SOAP endpoint of social insurance.
    public var socialSecurityURL: String
    /// Drop folder per civil affairs register, by adapter id (`civil-death`: `/.../civil-death`).
    public var dropFolders: [String: String]
    /// Where health pushes, if it does.
    public var healthPushURL: String?
}

/// The four simulated department systems over one shared district, started and stopped together:
///
/// ```swift
/// var configuration = DemoDepartmentConfiguration(dropFolder: dataDirectory + "/drop")
/// configuration.hubURL = "http://127.0.0.1:\(port)"
/// configuration.healthToken = healthToken
/// let systems = DemoDepartmentSystems(configuration, logger: logger)
/// let endpoints = try systems.start()
/// // write DemoDepartmentSystems.adapterDeclarations(endpoints, ...) into the adapters folder
/// systems.stop()
/// ```
public final class DemoDepartmentSystems: @unchecked Sendable {
    public let configuration: DemoDepartmentConfiguration
    public let population: DemoPopulation
    public let police: PoliceRegisterAPI
    public let socialSecurity: SocialSecurityService
    public let health: HealthRecordsPusher
    public let civilAffairs: CivilAffairsDrop
    public let changes: PopulationChanges
    private let lock = NSLock()
    private var started = false

    /// Builds the district and every department's records (about 1 s per 20,000 residents in release).
    public init(_ configuration: DemoDepartmentConfiguration, logger: Logger = .silent) {
        self.configuration = configuration
        population = DemoPopulation(seed: configuration.seed, residents: configuration.residents, messiness: configuration.messiness)
        police = PoliceRegisterAPI(table: population.police, host: configuration.host, port: configuration.policePort,
                                   token: configuration.policeToken, logger: logger)
        socialSecurity = SocialSecurityService(table: population.socialSecurity, host: configuration.host,
                                               port: configuration.socialSecurityPort, logger: logger)
        let pushURL = configuration.hubURL.map { Self.trimmed($0) + "/v1/ingest/" + DepartmentSystem.healthRecords.adapterID }
        health = HealthRecordsPusher(table: population.health, target: pushURL, token: configuration.healthToken,
                                     interval: configuration.pushInterval, logger: logger)
        civilAffairs = CivilAffairsDrop(root: configuration.dropFolder, interval: configuration.dropInterval, logger: logger)
        changes = PopulationChanges(population: population, civil: civilAffairs, health: health,
                                    perMinute: configuration.changesPerMinute, seed: configuration.seed, logger: logger)
    }

    private static func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }

    /// Starts listening, drops civil affairs' initial exports, queues every health record for
    /// pushing, and starts the changes. Throws when a port cannot be bound or the folder written.
    @discardableResult
    public func start() throws -> DemoDepartmentEndpoints {
        try lock.withLock {
            guard !started else { return }
            try police.service.start()
            try socialSecurity.service.start()
            try civilAffairs.createFolders()
            for register in CivilAffairsDrop.registers {
                try civilAffairs.drop(register, population.civilExports[register] ?? [])
            }
            for key in population.health.keys { health.enqueue(key) }
            health.start()
            civilAffairs.start()
            changes.start()
            started = true
        }
        return endpoints
    }

    public var endpoints: DemoDepartmentEndpoints {
        DemoDepartmentEndpoints(
            policePersonsURL: police.personsURL, policeToken: configuration.policeToken,
            socialSecurityURL: socialSecurity.endpointURL,
            dropFolders: Dictionary(uniqueKeysWithValues: CivilAffairsDrop.registers.map { ($0.adapterID, civilAffairs.folder(for: $0)) }),
            healthPushURL: configuration.hubURL.map { Self.trimmed($0) + "/v1/ingest/" + DepartmentSystem.healthRecords.adapterID })
    }

    deinit { stop() }

    /// Stops the changes, the pusher, the drops and the listeners. Safe to call twice.
    public func stop() {
        lock.withLock {
            guard started else { return }
            started = false
            changes.stop()
            health.stop()
            civilAffairs.stop()
            police.service.stop()
            socialSecurity.service.stop()
        }
    }
}
