import Foundation
import Persistence
import Synchronization

/// This deployment's identity, from the `deployment` table: the value of every container's
/// `berth.deployment` label, so sweeps touch only this deployment's containers on a shared engine.
public final class Deployment: Sendable {
    private let cached = Mutex<String?>(nil)

    public init() {}

    /// The id, read once from the database.
    public func id(_ database: Database) async throws -> String {
        if let known = cached.withLock({ $0 }) { return known }
        let id = try await database.withSystem { scope in
            try await scope.first("SELECT id::text AS id FROM deployment")?.decode("id", as: String.self)
        }
        guard let id else { throw PostgresError(code: .other, message: "the deployment table is empty; run berth migrate") }
        cached.withLock { $0 = id }
        return id
    }
}
