import Domain

extension DockerEndpoint {
    /// The endpoint for a registered server: its socket, or TCP with `<cert_path>/{ca,cert,key}.pem` when TLS is on.
    public init(_ connection: ServerConnection) {
        if let socket = connection.socketPath {
            self = .unixSocket(path: socket)
        } else if connection.tlsEnabled {
            // Without a folder the files are missing and every call fails as `.tls`: never fall back to plain HTTP.
            self = .tls(host: connection.host, port: connection.dockerPort, certificateFolder: connection.certPath ?? "")
        } else {
            self = .http(host: connection.host, port: connection.dockerPort)
        }
    }
}
