import Foundation
import Synchronization

/// A client for one Docker Engine over libcurl: plain HTTP, HTTPS with mutual TLS, or a unix socket.
///
/// The API version is negotiated from `GET /version` on first use (the server's, capped at
/// `newestAPIVersion`) and every path is prefixed with it. Every request has a time limit, and
/// every failure is a `DockerError`. Copies share the negotiated version.
public struct DockerClient: Sendable {
    /// The newest Engine API version Berth is written against.
    public static let newestAPIVersion = "1.47"

    public let endpoint: DockerEndpoint
    /// The name metrics give the engine (its server's name); empty when it has none.
    public let name: String
    /// The limit on each request; calls that wait on purpose (stop, exec) add their own wait to it.
    public let timeout: Duration
    /// The limit on connecting, TLS handshake included.
    public let connectTimeout: Duration
    let engine: CurlEngine
    private let negotiated: NegotiatedVersion

    public init(
        endpoint: DockerEndpoint,
        name: String = "",
        engine: CurlEngine = .shared,
        timeout: Duration = .seconds(30),
        connectTimeout: Duration = .seconds(5),
        apiVersion: String? = nil
    ) {
        self.endpoint = endpoint
        self.name = name
        self.engine = engine
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.negotiated = NegotiatedVersion(apiVersion)
    }

    private init(copying other: DockerClient, timeout: Duration) {
        endpoint = other.endpoint
        name = other.name
        engine = other.engine
        self.timeout = timeout
        connectTimeout = min(other.connectTimeout, timeout)
        negotiated = other.negotiated
    }

    /// The same client with another request time limit, e.g. a short one for health checks.
    public func withTimeout(_ timeout: Duration) -> DockerClient {
        DockerClient(copying: self, timeout: timeout)
    }

    // MARK: - Engine

    /// `GET /_ping`: whether the engine answers at all.
    public func ping() async throws(DockerError) {
        _ = try await send(.get, "/_ping", versioned: false)
    }

    /// `GET /version`.
    public func version() async throws(DockerError) -> DockerVersion {
        try decode(DockerVersion.self, from: try await send(.get, "/version", versioned: false), for: "GET /version")
    }

    /// The API version in use, negotiated on first use.
    public func apiVersion() async throws(DockerError) -> String {
        if let known = negotiated.value { return known }
        let server = try await version()
        let chosen = Self.lower(server.apiVersion, Self.newestAPIVersion)
        negotiated.value = chosen
        return chosen
    }

    /// `GET /info`.
    public func info() async throws(DockerError) -> DockerInfo {
        try await get(DockerInfo.self, "/info")
    }

    // MARK: - Images

    /// `GET /images/{name}/json`; a missing image is `.http` 404 (`isNotFound`).
    public func inspectImage(_ name: String) async throws(DockerError) -> ImageDetails {
        try await get(ImageDetails.self, "/images/\(Self.escapeImage(name))/json")
    }

    // MARK: - Containers

    /// `POST /containers/create`; returns the new container's id.
    public func createContainer(_ spec: ContainerSpec) async throws(DockerError) -> String {
        let response = try await send(
            .post, "/containers/create", query: [("name", spec.name)], json: ContainerCreateBody(spec)
        )
        return try decode(ContainerCreateResponse.self, from: response, for: "POST /containers/create").id
    }

    /// `POST /containers/{id}/start`; starting a running container is not an error.
    public func startContainer(_ id: String) async throws(DockerError) {
        _ = try await send(.post, "/containers/\(Self.escape(id))/start", accepting: [304])
    }

    /// `POST /containers/{id}/stop?t=`: SIGTERM, then SIGKILL after `timeout`; stopping a stopped container is not an error.
    public func stopContainer(_ id: String, timeout grace: Duration = .seconds(10)) async throws(DockerError) {
        _ = try await send(
            .post, "/containers/\(Self.escape(id))/stop", query: [("t", Self.seconds(grace))],
            timeout: timeout + grace, accepting: [304]
        )
    }

    /// `POST /containers/{id}/restart?t=`: stops as `stopContainer` does, then starts.
    public func restartContainer(_ id: String, timeout grace: Duration = .seconds(10)) async throws(DockerError) {
        _ = try await send(
            .post, "/containers/\(Self.escape(id))/restart", query: [("t", Self.seconds(grace))], timeout: timeout + grace
        )
    }

    /// `POST /containers/{id}/kill`; Docker answers 409 when the container is not running.
    public func killContainer(_ id: String, signal: String = "SIGKILL") async throws(DockerError) {
        _ = try await send(.post, "/containers/\(Self.escape(id))/kill", query: [("signal", signal)])
    }

    /// `DELETE /containers/{id}?force=&v=1`: removes the container and its anonymous volumes.
    public func removeContainer(_ id: String, force: Bool = true) async throws(DockerError) {
        _ = try await send(
            .delete, "/containers/\(Self.escape(id))", query: [("force", force ? "1" : "0"), ("v", "1")]
        )
    }

    /// `GET /containers/{id}/json`.
    public func inspectContainer(_ id: String) async throws(DockerError) -> ContainerDetails {
        try await get(ContainerDetails.self, "/containers/\(Self.escape(id))/json")
    }

    /// `GET /containers/json?all=&filters={"label":[…]}`: containers carrying every given label,
    /// each written `key` or `key=value`.
    public func listContainers(labels: [String] = [], all: Bool = true) async throws(DockerError) -> [ContainerSummary] {
        var query = [("all", all ? "1" : "0")]
        if !labels.isEmpty {
            let filters = (try? JSONEncoder().encode(["label": labels])) ?? Data()
            query.append(("filters", String(decoding: filters, as: UTF8.self)))
        }
        return try await get([ContainerSummary].self, "/containers/json", query: query)
    }

    /// `GET /containers/{id}/stats?stream=false&one-shot=true`: one sample, without Docker's second wait.
    public func stats(_ id: String) async throws(DockerError) -> ContainerStats {
        try await get(
            ContainerStats.self, "/containers/\(Self.escape(id))/stats", query: [("stream", "false"), ("one-shot", "true")]
        )
    }

    /// One sample of each container, concurrently; a container that could not be sampled is left out.
    public func stats(of ids: [String]) async -> [String: ContainerStats] {
        await withTaskGroup(of: (String, ContainerStats?).self) { group in
            for id in ids { group.addTask { (id, try? await self.stats(id)) } }
            var result: [String: ContainerStats] = [:]
            for await (id, stats) in group { if let stats { result[id] = stats } }
            return result
        }
    }

    /// `POST /containers/{id}/update`: new CPU and memory limits for a live container.
    ///
    /// Swap is set equal to memory, since Docker refuses to raise memory above the current swap limit alone.
    public func updateContainer(_ id: String, resources: ContainerResources) async throws(DockerError) {
        _ = try await send(.post, "/containers/\(Self.escape(id))/update", json: ResourceLimitsBody(resources))
    }

    // MARK: - Archives

    /// `GET /containers/{id}/archive?path=`: a tar stream of `path`, which is its top-level entry.
    public func archive(_ id: String, path: String, timeout limit: Duration? = nil) async throws(DockerError) -> Data {
        try await send(.get, "/containers/\(Self.escape(id))/archive", query: [("path", path)], timeout: limit).body
    }

    /// `PUT /containers/{id}/archive?path=`: unpacks a tar stream into the existing folder `path`.
    public func putArchive(_ id: String, path: String, tar: Data, timeout limit: Duration? = nil) async throws(DockerError) {
        _ = try await send(
            .put, "/containers/\(Self.escape(id))/archive", query: [("path", path)],
            body: tar, contentType: "application/x-tar", timeout: limit
        )
    }

    // MARK: - Transport

    /// A versioned GET decoded as `type`.
    func get<Value: Decodable>(
        _ type: Value.Type, _ path: String, query: [(String, String)] = []
    ) async throws(DockerError) -> Value {
        try decode(type, from: try await send(.get, path, query: query), for: "GET \(path)")
    }

    /// A request with a JSON body.
    func send<Body: Encodable>(
        _ method: CurlRequest.Method, _ path: String, query: [(String, String)] = [], json: Body,
        timeout limit: Duration? = nil, accepting extra: Set<Int> = []
    ) async throws(DockerError) -> CurlResponse {
        let body: Data
        do {
            body = try JSONEncoder().encode(json)
        } catch {
            throw DockerError(code: .decoding, message: "cannot encode the request body", operation: "\(method.rawValue) \(path)")
        }
        return try await send(
            method, path, query: query, body: body, contentType: "application/json", timeout: limit, accepting: extra
        )
    }

    /// One request; a status outside 2xx (and `extra`) becomes `.http` with Docker's message.
    func send(
        _ method: CurlRequest.Method, _ path: String, query: [(String, String)] = [], body: Data? = nil,
        contentType: String? = nil, versioned: Bool = true, timeout limit: Duration? = nil, accepting extra: Set<Int> = []
    ) async throws(DockerError) -> CurlResponse {
        let operation = "\(method.rawValue) \(path) on \(endpoint)"
        var target = path
        if versioned { target = "/v\(try await apiVersion())" + path }
        if !query.isEmpty {
            target += "?" + query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        var headers: [(name: String, value: String)] = []
        if let contentType { headers.append((name: "Content-Type", value: contentType)) }
        let limit = limit ?? timeout
        var request = CurlRequest(
            method: method, url: endpoint.baseURL + target, headers: headers, body: body,
            timeout: limit, connectTimeout: min(connectTimeout, limit)
        )
        endpoint.configure(&request)

        let started = ContinuousClock.now
        let measured = DockerCallMetrics(server: name, method: method, path: path)
        let response: CurlResponse
        do {
            response = try await engine.perform(request)
        } catch let error as CurlError {
            let failure = await classify(error, operation: operation)
            measured.record(outcome: failure.code.rawValue, since: started)
            throw failure
        } catch is CancellationError {
            var cancelled = DockerError.cancelled
            cancelled.operation = operation
            measured.record(outcome: "cancelled", since: started)
            throw cancelled
        } catch {
            measured.record(outcome: "transport", since: started)
            throw DockerError(code: .transport, message: String(describing: error), operation: operation)
        }
        guard (200..<300).contains(response.status) || extra.contains(response.status) else {
            measured.record(outcome: "http_\(response.status)", since: started)
            throw DockerError(
                code: .http, message: Self.message(in: response), status: response.status, operation: operation
            )
        }
        measured.record(outcome: "ok", since: started)
        return response
    }

    func decode<Value: Decodable>(
        _ type: Value.Type, from response: CurlResponse, for operation: String
    ) throws(DockerError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: response.body)
        } catch {
            // The decoder's own text can quote values from the body: keep it out of `description`.
            throw DockerError(
                code: .decoding, message: "cannot read \(Value.self) from Docker's answer",
                operation: "\(operation) on \(endpoint)", detail: String(describing: error)
            )
        }
    }

    /// Docker's `{"message": …}`, or the start of the body when it is not that.
    static func message(in response: CurlResponse) -> String {
        struct Message: Decodable { let message: String }
        if let decoded = try? JSONDecoder().decode(Message.self, from: response.body) {
            return decoded.message.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let text = String(decoding: response.body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "HTTP \(response.status)" : text
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// Image references keep their `/` and `:` (`registry:5000/team/app:tag`), which Docker's routes expect.
    static func escapeImage(_ name: String) -> String {
        var allowed = unreserved
        allowed.insert(charactersIn: "/:@")
        return name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name
    }

    private static let unreserved: CharacterSet = {
        var set = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        set.insert(charactersIn: "-._~")
        return set
    }()

    /// Whole seconds, rounded up, for Docker's `t=`.
    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(max(0, seconds + (attoseconds > 0 ? 1 : 0)))
    }

    /// The lower of two `major.minor` versions.
    static func lower(_ a: String, _ b: String) -> String {
        func parts(_ version: String) -> [Int] { version.split(separator: ".").map { Int($0) ?? 0 } }
        return parts(a).lexicographicallyPrecedes(parts(b)) ? a : b
    }
}

/// The API version chosen for a server, shared by copies of a client.
private final class NegotiatedVersion: Sendable {
    private let state: Mutex<String?>

    init(_ version: String?) {
        state = Mutex(version)
    }

    var value: String? {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}

extension DockerError {
    /// Docker answered 404: no such container, image or exec.
    public var isNotFound: Bool { code == .http && status == 404 }
}

// MARK: - Networks

extension DockerClient {
    /// One entry of `GET /networks`.
    public struct NetworkSummary: Sendable, Decodable, Equatable {
        public var id: String
        public var name: String
        public var labels: [String: String]

        enum CodingKeys: String, CodingKey {
            case id = "Id"
            case name = "Name"
            case labels = "Labels"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(String.self, forKey: .id)
            name = try container.decode(String.self, forKey: .name)
            labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        }
    }

    /// `POST /networks/create`: a bridge network of its own, with traffic between its containers off.
    /// One that exists by that name already is not an error (Docker answers 409); its id is returned.
    public func createBridgeNetwork(_ name: String, labels: [String: String]) async throws(DockerError) -> String {
        struct Body: Encodable {
            let Name: String
            let Driver = "bridge"
            let CheckDuplicate = true
            let Labels: [String: String]
            let Options = ["com.docker.network.bridge.enable_icc": "false"]
        }
        struct Created: Decodable { let Id: String }
        do {
            let response = try await send(.post, "/networks/create", json: Body(Name: name, Labels: labels))
            return try decode(Created.self, from: response, for: "POST /networks/create").Id
        } catch where error.code == .http && error.status == 409 {
            return try await get(NetworkSummary.self, "/networks/\(Self.escape(name))").id
        }
    }

    /// `DELETE /networks/{id}`; a network that is gone already is not an error.
    public func removeNetwork(_ nameOrID: String) async throws(DockerError) {
        _ = try await send(.delete, "/networks/\(Self.escape(nameOrID))", accepting: [404])
    }

    /// `GET /networks?filters={"label":[…]}`.
    public func listNetworks(labels: [String]) async throws(DockerError) -> [NetworkSummary] {
        let filters = (try? JSONEncoder().encode(["label": labels])) ?? Data()
        return try await get([NetworkSummary].self, "/networks", query: [("filters", String(decoding: filters, as: UTF8.self))])
    }
}
