/// The placement rules: filter, rank, explain. Pure: the placement service supplies the servers and
/// the round-robin cursor and does the reserving.
public enum Placement {
    /// What happened to one server in a decision.
    public enum Outcome: Sendable, Equatable {
        /// Fits; `rank` 0 is tried first.
        case candidate(rank: Int, score: Double)
        case excluded(reasons: [String])
    }

    /// One server's line in the explanation.
    public struct Evaluation: Sendable, Equatable {
        public var serverID: ServerID
        public var serverName: String
        public var outcome: Outcome
    }

    /// The ordered candidates and why every other server was passed over.
    public struct Plan: Sendable, Equatable {
        /// Servers to try, in order.
        public var candidates: [WorkspaceServer]
        /// Every server, candidates first in rank order, then the excluded by name.
        public var evaluations: [Evaluation]
        /// Whether any server was healthy at all (tells 503 from 409 when there is no candidate).
        public var anyHealthy: Bool

        /// The reasons per excluded server, by name.
        public var exclusions: [String: [String]] {
            var result: [String: [String]] = [:]
            for evaluation in evaluations {
                if case .excluded(let reasons) = evaluation.outcome { result[evaluation.serverName] = reasons }
            }
            return result
        }
    }

    /// Why `server` cannot take `resources` right now; empty when it can.
    public static func exclusionReasons(
        _ server: WorkspaceServer, resources: Resources, constraints: [LabelConstraint]
    ) -> [String] {
        var reasons: [String] = []
        if server.status != .healthy { reasons.append(server.status.rawValue) }
        if server.schedulable != .active { reasons.append(server.schedulable.rawValue) }
        let used = server.reserved, total = server.capacity
        if used.cpuMillis + resources.cpuMillis > total.cpuMillis {
            reasons.append("cpu \(cores(used.cpuMillis))/\(cores(total.cpuMillis)) + \(cores(resources.cpuMillis)) > \(cores(total.cpuMillis))")
        }
        if used.memoryMB + resources.memoryMB > total.memoryMB {
            reasons.append("memory \(used.memoryMB)/\(total.memoryMB) MB + \(resources.memoryMB) > \(total.memoryMB) MB")
        }
        if used.diskGB + resources.diskGB > total.diskGB {
            reasons.append("disk \(used.diskGB)/\(total.diskGB) GB + \(resources.diskGB) > \(total.diskGB) GB")
        }
        if used.workspaces + 1 > total.workspaces {
            reasons.append("workspaces \(used.workspaces)/\(total.workspaces) at max")
        }
        for constraint in constraints {
            if let violation = constraint.violation(by: server.labels) { reasons.append(violation) }
        }
        return reasons
    }

    /// Utilisation after adding `resources`, averaged over CPU, memory and disk (disk only where the
    /// server has any), from 0 to 1.
    public static func utilisation(of server: WorkspaceServer, adding resources: Resources) -> Double {
        let used = server.reserved, total = server.capacity
        var parts = [
            Double(used.cpuMillis + resources.cpuMillis) / Double(max(total.cpuMillis, 1)),
            Double(used.memoryMB + resources.memoryMB) / Double(max(total.memoryMB, 1)),
        ]
        if total.diskGB > 0 { parts.append(Double(used.diskGB + resources.diskGB) / Double(total.diskGB)) }
        return parts.reduce(0, +) / Double(parts.count)
    }

    /// Filters and ranks `servers` for `request`. `roundRobinCursor` is the shared cursor's value.
    public static func plan(_ request: PlacementRequest, servers: [WorkspaceServer], roundRobinCursor: Int = 0) -> Plan {
        let byName = servers.sorted(by: byNameThenID)
        var fitting: [WorkspaceServer] = []
        var excluded: [(WorkspaceServer, [String])] = []
        for server in byName {
            let reasons = exclusionReasons(server, resources: request.resources, constraints: request.constraints)
            if reasons.isEmpty { fitting.append(server) } else { excluded.append((server, reasons)) }
        }
        let anyHealthy = servers.contains { $0.status == .healthy }

        var ranked: [(WorkspaceServer, Double)]
        switch request.strategy {
        case .spread:
            ranked = rankByUtilisation(fitting, request.resources, ascending: true)
        case .bestFit:
            ranked = rankByUtilisation(fitting, request.resources, ascending: false)
        case .roundRobin:
            ranked = fitting.map { ($0, 0) }
            if !ranked.isEmpty {
                let start = ((roundRobinCursor % ranked.count) + ranked.count) % ranked.count
                ranked = Array(ranked[start...] + ranked[..<start])
            }
        case .affinity:
            let preferred = request.preferredServer
            let isPreferred = { (server: WorkspaceServer) in server.name == preferred || server.id.description == preferred?.lowercased() }
            let others = rankByUtilisation(fitting.filter { !isPreferred($0) }, request.resources, ascending: true)
            let first = fitting.filter(isPreferred).map { ($0, utilisation(of: $0, adding: request.resources)) }
            if request.preferenceIsSoft {
                ranked = first + others
            } else {
                ranked = first
                for (server, _) in others {
                    excluded.append((server, ["not the preferred server \(preferred ?? "(none given)") (hard affinity)"]))
                }
                excluded.sort { byNameThenID($0.0, $1.0) }
            }
        }

        var evaluations: [Evaluation] = ranked.enumerated().map { index, entry in
            Evaluation(serverID: entry.0.id, serverName: entry.0.name, outcome: .candidate(rank: index, score: entry.1))
        }
        evaluations += excluded.map { Evaluation(serverID: $0.0.id, serverName: $0.0.name, outcome: .excluded(reasons: $0.1)) }
        return Plan(candidates: ranked.map(\.0), evaluations: evaluations, anyHealthy: anyHealthy)
    }

    private static func rankByUtilisation(_ servers: [WorkspaceServer], _ resources: Resources, ascending: Bool) -> [(WorkspaceServer, Double)] {
        servers.map { ($0, utilisation(of: $0, adding: resources)) }.sorted { a, b in
            if a.1 != b.1 { return ascending ? a.1 < b.1 : a.1 > b.1 }
            // Deterministic tie-break: by name, then id.
            return byNameThenID(a.0, b.0)
        }
    }

    /// The order servers are listed in: by name, then id. Names are ASCII (they are validated), so
    /// their bytes order them; the id's text is made only when two names are equal.
    static func byNameThenID(_ a: WorkspaceServer, _ b: WorkspaceServer) -> Bool {
        if a.name != b.name { return a.name.utf8.lexicographicallyPrecedes(b.name.utf8) }
        return a.id.description < b.id.description
    }

    static func cores(_ millis: Int) -> String {
        millis % 1000 == 0 ? String(millis / 1000) : String(Double(millis) / 1000)
    }
}
