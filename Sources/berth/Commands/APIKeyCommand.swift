import ArgumentParser
import Domain
import Foundation
import Persistence
import Secrets

/// `berth apikey …`: issue keys from a shell.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey", abstract: "Manage tenant API keys.", subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue an API key. The key is printed once and stored only as a hash."
        )

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id or name.") var tenant: String
        @Option(help: "A label for the key.") var name: String = "default"

        func run() async throws {
            let material = APIKeyMaterial.generate()
            let record: APIKeyRecord = try await CommandDatabase.run(database) { db in
                try await db.withSystem { scope in
                    let store = TenantStore()
                    let found = if let id = TenantID(tenant) {
                        try await store.get(id, in: scope)
                    } else {
                        try await store.get(named: tenant, in: scope)
                    }
                    guard let found else { Bootstrap.fail("no tenant \(tenant)") }
                    return try await APIKeyStore().insert(
                        tenantID: found.id, name: name, prefix: material.prefix, hash: material.hash, in: scope
                    )
                }
            }
            struct Issued: Encodable {
                let id: APIKeyID
                let tenantId: TenantID
                let name: String
                let prefix: String
                let key: String
            }
            print(try CommandDatabase.json(Issued(id: record.id, tenantId: record.tenantID, name: record.name, prefix: record.prefix, key: material.secret)))
            FileHandle.standardError.write(Data("berth: store this key now; it cannot be shown again\n".utf8))
        }
    }
}
