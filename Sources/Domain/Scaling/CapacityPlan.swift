/// The fleet's capacity signals: how full the schedulable servers are, and how many servers of the
/// typical size it takes to keep a headroom. Pure; the scaling service, `/admin/cluster` and
/// `/metrics` compute it from the same server rows.
public struct CapacityPlan: Sendable, Equatable {
    public enum Recommendation: String, Sendable, Equatable, Codable {
        case none
        case scaleOut = "scale_out"
        case scaleIn = "scale_in"
    }

    /// The resources measured, in a fixed order.
    public static let resources = ["cpu", "memory", "disk", "workspaces"]

    /// Healthy servers open to placement.
    public let servers: Int
    /// Servers of the typical size needed so that every resource keeps the headroom.
    public let serversNeeded: Int
    /// The fraction of each resource to keep free.
    public let headroomTarget: Double
    /// Reserved over total, per resource (0 when there is no capacity).
    public let utilisation: [String: Double]
    /// Free over total, per resource.
    public let headroom: [String: Double]
    /// The median server's capacity.
    public let typicalServer: Capacity
    public let recommendation: Recommendation

    /// The plan for `servers` (only healthy, `active` ones count) keeping `headroom` free.
    public static func plan(servers all: [WorkspaceServer], headroom target: Double) -> CapacityPlan {
        let servers = all.filter { $0.status == .healthy && $0.schedulable == .active }
        let target = min(max(target, 0), 0.95)
        func values(_ capacity: Capacity) -> [Int] { [capacity.cpuMillis, capacity.memoryMB, capacity.diskGB, capacity.workspaces] }
        let totals = servers.reduce(into: [0, 0, 0, 0]) { sum, server in for (i, v) in values(server.capacity).enumerated() { sum[i] += v } }
        let reserved = servers.reduce(into: [0, 0, 0, 0]) { sum, server in for (i, v) in values(server.reserved).enumerated() { sum[i] += v } }
        func median(_ index: Int) -> Int {
            let sorted = servers.map { values($0.capacity)[index] }.sorted()
            return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        }
        let typical = Capacity(cpuMillis: median(0), memoryMB: median(1), diskGB: median(2), workspaces: median(3))
        var utilisation: [String: Double] = [:], headroom: [String: Double] = [:]
        var needed = 1
        for (index, name) in resources.enumerated() {
            let used = totals[index] > 0 ? Double(reserved[index]) / Double(totals[index]) : 0
            utilisation[name] = (used * 1000).rounded() / 1000
            headroom[name] = ((1 - used) * 1000).rounded() / 1000
            let size = values(typical)[index]
            if size > 0 {
                needed = max(needed, Int((Double(reserved[index]) / ((1 - target) * Double(size))).rounded(.up)))
            }
        }
        let recommendation: Recommendation = needed > servers.count ? .scaleOut : needed < servers.count ? .scaleIn : .none
        return CapacityPlan(
            servers: servers.count, serversNeeded: needed, headroomTarget: target, utilisation: utilisation, headroom: headroom,
            typicalServer: typical, recommendation: recommendation
        )
    }
}
