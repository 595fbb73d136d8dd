/// One sample of `GET /containers/{id}/stats?stream=false&one-shot=true`.
///
/// CPU figures are cumulative counters: a rate needs two samples (`cpuFraction(since:)`).
public struct ContainerStats: Sendable, Decodable, Equatable {
    /// CPU time the container has used, in nanoseconds.
    public var cpuTotalNanoseconds: UInt64
    /// CPU time the whole host has used, in nanoseconds (absent on some platforms).
    public var systemCPUNanoseconds: UInt64
    public var onlineCPUs: Int
    /// Memory charged to the container, page cache included.
    public var memoryUsageBytes: UInt64
    /// The container's memory limit (the host's memory when it has none).
    public var memoryLimitBytes: UInt64
    /// Usage less inactive page cache: what `docker stats` shows and what the kernel would not reclaim.
    public var memoryWorkingSetBytes: UInt64
    public var pids: Int?

    enum CodingKeys: String, CodingKey {
        case cpuStats = "cpu_stats"
        case memoryStats = "memory_stats"
        case pidsStats = "pids_stats"
    }

    private struct CPUStats: Decodable {
        struct Usage: Decodable {
            var totalUsage: UInt64?
            enum CodingKeys: String, CodingKey { case totalUsage = "total_usage" }
        }
        var cpuUsage: Usage?
        var systemCPUUsage: UInt64?
        var onlineCPUs: Int?
        enum CodingKeys: String, CodingKey {
            case cpuUsage = "cpu_usage"
            case systemCPUUsage = "system_cpu_usage"
            case onlineCPUs = "online_cpus"
        }
    }

    private struct MemoryStats: Decodable {
        var usage: UInt64?
        var limit: UInt64?
        var stats: [String: UInt64]?
    }

    private struct PidsStats: Decodable {
        var current: Int?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let cpu = try container.decodeIfPresent(CPUStats.self, forKey: .cpuStats)
        let memory = try container.decodeIfPresent(MemoryStats.self, forKey: .memoryStats)
        cpuTotalNanoseconds = cpu?.cpuUsage?.totalUsage ?? 0
        systemCPUNanoseconds = cpu?.systemCPUUsage ?? 0
        onlineCPUs = cpu?.onlineCPUs ?? 0
        memoryUsageBytes = memory?.usage ?? 0
        memoryLimitBytes = memory?.limit ?? 0
        // cgroup v2 names it inactive_file; v1 total_inactive_file.
        let inactive = memory?.stats?["inactive_file"] ?? memory?.stats?["total_inactive_file"] ?? 0
        memoryWorkingSetBytes = memoryUsageBytes > inactive ? memoryUsageBytes - inactive : memoryUsageBytes
        pids = try container.decodeIfPresent(PidsStats.self, forKey: .pidsStats)?.current
    }

    /// Cores in use between `earlier` and this sample (1.0 is one core busy), or nil when the
    /// host counters did not advance.
    public func cpuFraction(since earlier: ContainerStats) -> Double? {
        guard systemCPUNanoseconds > earlier.systemCPUNanoseconds, cpuTotalNanoseconds >= earlier.cpuTotalNanoseconds else {
            return nil
        }
        let used = Double(cpuTotalNanoseconds - earlier.cpuTotalNanoseconds)
        let system = Double(systemCPUNanoseconds - earlier.systemCPUNanoseconds)
        return used / system * Double(max(onlineCPUs, 1))
    }
}
