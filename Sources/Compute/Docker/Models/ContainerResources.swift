/// CPU and memory limits of a container, as Docker counts them.
public struct ContainerResources: Sendable, Equatable {
    /// CPU in billionths of a core (Docker's `NanoCpus`); 0 means no limit.
    public var nanoCPUs: Int64
    /// Memory in bytes (Docker's `Memory`); 0 means no limit.
    public var memoryBytes: Int64

    public init(nanoCPUs: Int64, memoryBytes: Int64) {
        self.nanoCPUs = nanoCPUs
        self.memoryBytes = memoryBytes
    }

    /// Limits from thousandths of a core and mebibytes, the units Berth reserves in.
    public init(cpuMillis: Int, memoryMB: Int) {
        self.init(nanoCPUs: Int64(cpuMillis) * 1_000_000, memoryBytes: Int64(memoryMB) * 1_048_576)
    }
}

/// The body of `POST /containers/{id}/update`, and the resource part of a create.
///
/// Zero means "no limit" to Berth but "leave as is" to Docker's update, so zeros are left out.
struct ResourceLimitsBody: Encodable {
    var nanoCPUs: Int64?
    var memory: Int64?
    /// Memory plus swap. Docker refuses to raise a memory limit above the current swap limit unless
    /// both change, and a limit with swap on top is no limit, so it always equals `memory`.
    var memorySwap: Int64?

    init(_ resources: ContainerResources) {
        nanoCPUs = resources.nanoCPUs > 0 ? resources.nanoCPUs : nil
        memory = resources.memoryBytes > 0 ? resources.memoryBytes : nil
        memorySwap = memory
    }

    enum CodingKeys: String, CodingKey {
        case nanoCPUs = "NanoCpus"
        case memory = "Memory"
        case memorySwap = "MemorySwap"
    }
}
