import Domain
import Foundation
import Logging
import Persistence

/// Utilisation, headroom and the servers needed to keep the configured headroom (`CapacityPlan`),
/// and a webhook told, through libcurl, when a scale-out or scale-in becomes recommended.
///
/// Telling the webhook never blocks anything else: it runs in the background, trying again with a
/// doubling backoff, and gives up after `webhookAttempts` (the row in `scaling_signals` keeps the
/// last error). A change of recommendation is claimed by one replica only.
public struct CapacitySignals: Sendable {
    public struct Settings: Sendable {
        /// The fraction of each resource to keep free.
        public var headroom: Double
        /// Where to POST a recommendation; nil tells no one.
        public var webhookURL: String?
        public var webhookAttempts: Int
        public var webhookBackoff: Duration
        public var webhookTimeout: Duration

        public init(headroom: Double = 0.2, webhookURL: String? = nil, webhookAttempts: Int = 5, webhookBackoff: Duration = .seconds(1), webhookTimeout: Duration = .seconds(5)) {
            self.headroom = headroom
            self.webhookURL = webhookURL
            self.webhookAttempts = max(1, webhookAttempts)
            self.webhookBackoff = webhookBackoff
            self.webhookTimeout = webhookTimeout
        }
    }

    /// What a pass found, and whether it began telling the webhook.
    public struct Report: Sendable, Equatable {
        public let plan: CapacityPlan
        public let notified: Bool
    }

    let database: Database
    let settings: Settings
    let work: BackgroundWork
    let logger: Logger

    /// The plan from the servers as they are now.
    public static func plan(headroom: Double, in scope: SystemScope) async throws -> CapacityPlan {
        CapacityPlan.plan(servers: try await WorkspaceServerStore().list(in: scope), headroom: headroom)
    }

    /// The JSON a webhook receives.
    public static func payload(_ plan: CapacityPlan, at instant: Date = Date()) -> [String: Any] {
        [
            "recommendation": plan.recommendation.rawValue, "servers": plan.servers, "servers_needed": plan.serversNeeded,
            "headroom_target": plan.headroomTarget, "utilisation": plan.utilisation, "headroom": plan.headroom,
            "typical_server": [
                "cpu": Double(plan.typicalServer.cpuMillis) / 1000, "memory_mb": plan.typicalServer.memoryMB,
                "disk_gb": plan.typicalServer.diskGB, "max_workspaces": plan.typicalServer.workspaces,
            ],
            "at": ISO8601DateFormatter().string(from: instant),
        ]
    }

    /// Computes the plan; when its recommendation changed to a scale-out or scale-in (and this
    /// replica claimed the change), starts telling the webhook.
    func evaluate() async -> Report? {
        do {
            let (plan, claimed) = try await database.withSystem { scope -> (CapacityPlan, Bool) in
                let plan = try await Self.plan(headroom: settings.headroom, in: scope)
                let changed = try await scope.execute("""
                    INSERT INTO scaling_signals (name, recommendation) VALUES ('fleet', \(plan.recommendation.rawValue))
                    ON CONFLICT (name) DO UPDATE SET recommendation = excluded.recommendation, changed_at = now(), attempts = 0,
                        delivered_at = NULL, last_error = NULL
                    WHERE scaling_signals.recommendation IS DISTINCT FROM excluded.recommendation
                    """).affectedRows == 1
                return (plan, changed && plan.recommendation != .none)
            }
            if claimed {
                logger.info("capacity recommendation changed", metadata: [
                    "recommendation": "\(plan.recommendation.rawValue)", "servers": "\(plan.servers)", "needed": "\(plan.serversNeeded)",
                ])
            }
            guard claimed, let url = settings.webhookURL else { return Report(plan: plan, notified: false) }
            work.spawn { [self] in await deliver(plan, to: url) }
            return Report(plan: plan, notified: true)
        } catch {
            logger.warning("scaling service could not compute capacity", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// POSTs the recommendation, trying again with a doubling backoff; stops early when a newer
    /// recommendation has replaced it.
    func deliver(_ plan: CapacityPlan, to url: String) async {
        guard let body = try? JSONSerialization.data(withJSONObject: Self.payload(plan), options: [.sortedKeys]) else { return }
        var pause = settings.webhookBackoff
        for attempt in 1...settings.webhookAttempts {
            var failure: String?
            do {
                let response = try await CurlEngine.shared.perform(CurlRequest(
                    method: .post, url: url, headers: [("Content-Type", "application/json"), ("User-Agent", "berth-scaling")],
                    body: body, timeout: settings.webhookTimeout
                ))
                if !(200..<300).contains(response.status) { failure = "HTTP \(response.status)" }
            } catch {
                failure = "\(error)"
            }
            let current = try? await database.withSystem { scope in
                try await scope.first("""
                    UPDATE scaling_signals SET attempts = \(attempt), last_error = \(failure),
                        delivered_at = CASE WHEN \(failure)::text IS NULL THEN now() ELSE NULL END
                    WHERE name = 'fleet' AND recommendation = \(plan.recommendation.rawValue)
                    RETURNING recommendation
                    """)
            }
            guard let failure else {
                logger.info("scaling webhook told", metadata: ["recommendation": "\(plan.recommendation.rawValue)", "attempt": "\(attempt)"])
                return
            }
            logger.warning("scaling webhook did not take the recommendation", metadata: ["attempt": "\(attempt)", "error": "\(failure)"])
            // A newer recommendation replaced this one: its own delivery says the rest.
            guard current != nil, attempt < settings.webhookAttempts else { return }
            try? await Task.sleep(for: pause)
            pause = pause * 2
        }
    }
}
