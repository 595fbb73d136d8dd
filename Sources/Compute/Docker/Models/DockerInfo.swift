/// The parts of `GET /info` that placement and health need.
public struct DockerInfo: Sendable, Decodable, Equatable {
    public var id: String?
    public var name: String
    public var serverVersion: String
    /// CPUs the engine sees.
    public var cpuCount: Int
    /// Memory the engine sees, in bytes.
    public var memoryBytes: Int64
    public var containers: Int
    public var containersRunning: Int
    public var containersStopped: Int?
    public var images: Int?
    /// The storage driver, e.g. `overlay2`; disk limits (`StorageOpt.size`) depend on it.
    public var driver: String
    public var operatingSystem: String?
    public var architecture: String?
    /// The daemon's data root, which tells apart daemons on one host (their `ID`s can be equal).
    public var dockerRootDir: String?

    enum CodingKeys: String, CodingKey {
        case id = "ID"
        case name = "Name"
        case serverVersion = "ServerVersion"
        case cpuCount = "NCPU"
        case memoryBytes = "MemTotal"
        case containers = "Containers"
        case containersRunning = "ContainersRunning"
        case containersStopped = "ContainersStopped"
        case images = "Images"
        case driver = "Driver"
        case operatingSystem = "OperatingSystem"
        case architecture = "Architecture"
        case dockerRootDir = "DockerRootDir"
    }
}
