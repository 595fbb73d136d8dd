import ArgumentParser
import Domain
import Foundation
import Persistence

/// `berth tenant …`: tenant administration from a shell.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants.", subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and print it as JSON.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant name: a-z, 0-9 and '-', at most 63 characters.") var name: String
        @Option(help: "Most workspaces at once.") var maxWorkspaces: Int = Quota.standard.maxWorkspaces
        @Option(help: "Most CPU cores at once (e.g. 8 or 2.5).") var maxCpu: Double = Double(Quota.standard.maxCPUMillis) / 1000
        @Option(help: "Most memory in MB at once.") var maxMemoryMb: Int = Quota.standard.maxMemoryMB

        func run() async throws {
            if let problem = TenantName.problem(with: name) { Bootstrap.fail("invalid tenant name: \(problem)") }
            guard maxWorkspaces >= 0, maxCpu >= 0, maxMemoryMb >= 0 else { Bootstrap.fail("quotas must not be negative") }
            let quota = Quota(maxWorkspaces: maxWorkspaces, maxCPUMillis: Int((maxCpu * 1000).rounded()), maxMemoryMB: maxMemoryMb)
            let tenant: Tenant = try await CommandDatabase.run(database) { db in
                do {
                    return try await db.withSystem { try await TenantStore().create(name: name, quota: quota, in: $0) }
                } catch let error as PostgresError where error.code == .uniqueViolation {
                    Bootstrap.fail("a tenant named \(name) already exists")
                }
            }
            print(try CommandDatabase.json(tenant))
        }
    }
}

/// Opens the service's database for a one-shot command and reports failures as one line.
enum CommandDatabase {
    static func run<T>(_ options: DatabaseOptions, _ body: (Database) async throws -> T) async throws -> T {
        let logger = Bootstrap.logger("berth.cli")
        let url: String
        do {
            guard let value = try options.databaseURL ?? Environment().value("BERTH_DATABASE_URL") else {
                Bootstrap.fail("BERTH_DATABASE_URL is not set (nor --database-url)")
            }
            url = value
        } catch { Bootstrap.fail("\(error)") }
        let configuration = DatabaseConfiguration(connectionString: url, poolSize: 1)
        do { try configuration.validate() } catch { Bootstrap.fail(error.description) }
        let database = Database(configuration: configuration, logger: logger)
        defer { database.shutdown() }
        do {
            return try await body(database)
        } catch let error as PostgresError {
            Bootstrap.fail(error.description)
        }
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
