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
        // Positions in `servers` are sorted rather than the servers themselves: a server is a large
        // value, and moving thousands of them was most of a decision's time.
        var fitting: [Int] = []
        var excluded: [(Int, [String])] = []
        for index in servers.indices {
            let reasons = exclusionReasons(servers[index], resources: request.resources, constraints: request.constraints)
            if reasons.isEmpty { fitting.append(index) } else { excluded.append((index, reasons)) }
        }
        let anyHealthy = servers.contains { $0.status == .healthy }
        func byName(_ a: Int, _ b: Int) -> Bool { byNameThenID(servers[a], servers[b]) }
        func ranked(_ indices: [Int], ascending: Bool) -> [(Int, Double)] {
            indices.map { ($0, utilisation(of: servers[$0], adding: request.resources)) }.sorted { a, b in
                if a.1 != b.1 { return ascending ? a.1 < b.1 : a.1 > b.1 }
                // Deterministic tie-break: by name, then id.
                return byName(a.0, b.0)
            }
        }

        var order: [(Int, Double)]
        switch request.strategy {
        case .spread:
            order = ranked(fitting, ascending: true)
        case .bestFit:
            order = ranked(fitting, ascending: false)
        case .roundRobin:
            order = fitting.sorted(by: byName).map { ($0, 0) }
            if !order.isEmpty {
                let start = ((roundRobinCursor % order.count) + order.count) % order.count
                order = Array(order[start...] + order[..<start])
            }
        case .affinity:
            let preferred = request.preferredServer
            let isPreferred = { (index: Int) in servers[index].name == preferred || servers[index].id.description == preferred?.lowercased() }
            let others = ranked(fitting.filter { !isPreferred($0) }, ascending: true)
            let first = fitting.filter(isPreferred).sorted(by: byName).map { ($0, utilisation(of: servers[$0], adding: request.resources)) }
            if request.preferenceIsSoft {
                order = first + others
            } else {
                order = first
                for (index, _) in others {
                    excluded.append((index, ["not the preferred server \(preferred ?? "(none given)") (hard affinity)"]))
                }
            }
        }
        excluded.sort { byName($0.0, $1.0) }

        var evaluations: [Evaluation] = order.enumerated().map { rank, entry in
            Evaluation(serverID: servers[entry.0].id, serverName: servers[entry.0].name, outcome: .candidate(rank: rank, score: entry.1))
        }
        evaluations += excluded.map { Evaluation(serverID: servers[$0.0].id, serverName: servers[$0.0].name, outcome: .excluded(reasons: $0.1)) }
        return Plan(candidates: order.map { servers[$0.0] }, evaluations: evaluations, anyHealthy: anyHealthy)
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
