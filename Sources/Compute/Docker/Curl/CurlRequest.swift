import Foundation

/// One HTTP request for the curl engine: a value, so it can cross to the engine's thread.
public struct CurlRequest: Sendable {
    /// The HTTP method.
    public enum Method: String, Sendable {
        case get = "GET"
        case head = "HEAD"
        case post = "POST"
        case put = "PUT"
        case patch = "PATCH"
        case delete = "DELETE"
    }

    /// Files for HTTPS with the server verified against `caFile` and, for mutual TLS, a client certificate.
    public struct TLSFiles: Sendable, Hashable {
        /// PEM bundle of the authorities trusted to sign the server's certificate.
        public var caFile: String
        /// PEM client certificate; nil presents none.
        public var certificateFile: String?
        /// PEM private key of the client certificate.
        public var keyFile: String?

        public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    public var method: Method
    /// The full URL; with `unixSocketPath` set its host is ignored (use `http://localhost/...`).
    public var url: String
    public var headers: [(name: String, value: String)]
    /// Sent as is; nil sends no body.
    public var body: Data?
    /// The whole transfer, connect included, must end within this.
    public var timeout: Duration
    /// Connecting (TCP and the TLS handshake) must end within this.
    public var connectTimeout: Duration
    /// Set for HTTPS; the URL's scheme must then be `https`.
    public var tls: TLSFiles?
    /// Connect to this unix socket instead of the URL's host.
    public var unixSocketPath: String?
    /// Caps the TLS version; nil lets libcurl and the server settle on the newest both speak.
    public var maximumTLSVersion: TLSVersion?
    /// Only connect, TLS handshake included, and send nothing: a probe of whether a handshake succeeds.
    public var connectOnly = false

    /// A TLS protocol version.
    public enum TLSVersion: Sendable {
        case tls12
        case tls13
    }

    public init(
        method: Method,
        url: String,
        headers: [(name: String, value: String)] = [],
        body: Data? = nil,
        timeout: Duration = .seconds(30),
        connectTimeout: Duration = .seconds(5),
        tls: TLSFiles? = nil,
        unixSocketPath: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.tls = tls
        self.unixSocketPath = unixSocketPath
    }
}

/// What came back for a `CurlRequest`.
public struct CurlResponse: Sendable {
    /// The HTTP status of the last response (after any `100 Continue`).
    public var status: Int
    /// Header fields of the last response, in the order received.
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// Connections libcurl opened for this transfer: 0 when it reused a kept-alive one.
    public var newConnections: Int

    public init(status: Int, headers: [(name: String, value: String)], body: Data, newConnections: Int = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.newConnections = newConnections
    }

    /// The first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

extension Duration {
    /// Whole milliseconds, at least 1 so that libcurl never reads 0 as "no limit".
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int(max(1, milliseconds))
    }
}
