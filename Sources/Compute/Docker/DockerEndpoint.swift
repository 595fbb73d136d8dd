/// Where a Docker Engine listens and how to reach it.
public enum DockerEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Plain HTTP over TCP.
    case http(host: String, port: Int)
    /// HTTPS: the server verified against a CA and, for mutual TLS, a client certificate presented.
    case https(host: String, port: Int, tls: CurlRequest.TLSFiles)
    /// HTTP over a unix socket.
    case unixSocket(path: String)

    /// HTTPS with mutual TLS from a folder holding `ca.pem`, `cert.pem` and `key.pem`,
    /// the layout of a server's `cert_path` (and of `docker --tlsverify`'s `DOCKER_CERT_PATH`).
    public static func tls(host: String, port: Int, certificateFolder: String) -> DockerEndpoint {
        let folder = certificateFolder.hasSuffix("/") ? String(certificateFolder.dropLast()) : certificateFolder
        return .https(host: host, port: port, tls: .init(
            caFile: folder + "/ca.pem", certificateFile: folder + "/cert.pem", keyFile: folder + "/key.pem"
        ))
    }

    /// The scheme, host and port every request path is appended to.
    var baseURL: String {
        switch self {
        case .http(let host, let port): "http://\(Self.bracketed(host)):\(port)"
        case .https(let host, let port, _): "https://\(Self.bracketed(host)):\(port)"
        // The host is not used for the connection; Docker only needs a valid Host header.
        case .unixSocket: "http://localhost"
        }
    }

    var isTLS: Bool {
        if case .https = self { return true }
        return false
    }

    /// Sets the transport's options on a request for this endpoint.
    func configure(_ request: inout CurlRequest) {
        switch self {
        case .http: break
        case .https(_, _, let tls): request.tls = tls
        case .unixSocket(let path): request.unixSocketPath = path
        }
    }

    /// `http://host:port`, `https://host:port` or `unix:///path`; never the certificate files.
    public var description: String {
        switch self {
        case .unixSocket(let path): "unix://\(path)"
        default: baseURL
        }
    }

    private static func bracketed(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }
}
