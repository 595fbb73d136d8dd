import CCurl

/// A failed call to a Docker Engine, typed so callers can tell an outage from a refusal.
///
/// `description` holds our own text, libcurl's error buffer or Docker's `message`: never request
/// bodies, environment values or key material. Low-level details go to `debugDescription`.
public struct DockerError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Hashable, CustomStringConvertible {
        /// No connection could be made: refused, no route, unknown host, missing socket.
        case unreachable
        /// The TLS handshake or the peer's certificate failed; the message names the reason.
        case tls
        /// The request ran past its time limit.
        case timeout
        /// Docker answered with an HTTP error; the message is Docker's own.
        case http
        /// Docker's answer could not be decoded.
        case decoding
        /// The calling task was cancelled.
        case cancelled
        /// The connection failed in another way (reset, closed early, bad request set-up).
        case transport

        public var description: String { rawValue }
    }

    public var code: Code
    /// Safe, one-line text: the TLS reason, Docker's message, or our own.
    public var message: String
    /// The HTTP status, for `.http`.
    public var status: Int?
    /// What was being done, e.g. `GET /containers/abc/json on 127.0.0.1:2375`.
    public var operation: String?
    /// libcurl's code and summary, or a decoding error's path: only in `debugDescription`.
    public var detail: String?

    public init(code: Code, message: String, status: Int? = nil, operation: String? = nil, detail: String? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.operation = operation
        self.detail = detail
    }

    public static func unreachable(_ message: String) -> DockerError { DockerError(code: .unreachable, message: message) }
    public static func tls(_ reason: String) -> DockerError { DockerError(code: .tls, message: reason) }
    public static func timeout(_ message: String) -> DockerError { DockerError(code: .timeout, message: message) }
    public static func http(_ status: Int, _ message: String) -> DockerError {
        DockerError(code: .http, message: message, status: status)
    }
    public static func decoding(_ message: String) -> DockerError { DockerError(code: .decoding, message: message) }
    public static let cancelled = DockerError(code: .cancelled, message: "the request was cancelled")

    /// Whether the failure is about reaching the server rather than about the request.
    public var isConnectivity: Bool { code == .unreachable || code == .tls || code == .timeout || code == .transport }

    public var description: String {
        var text = "docker \(code)"
        if let status { text += " \(status)" }
        if let operation { text += " (\(operation))" }
        return text + ": " + message
    }

    public var debugDescription: String {
        guard let detail else { return description }
        return description + " [" + detail + "]"
    }
}

extension DockerError {
    /// Classifies a libcurl failure.
    ///
    /// `tls` says whether the transfer was HTTPS: a TLS 1.3 server checks the client's certificate
    /// only after the handshake, so a missing or refused client certificate shows up as a failed
    /// read or write (`CURLE_RECV_ERROR`, `CURLE_SEND_ERROR`) whose error buffer carries the alert
    /// the server sent, such as "tlsv13 alert certificate required" or, from Docker's Go TLS stack,
    /// "sslv3 alert bad certificate". When the alert was lost, `DockerClient` probes the handshake.
    init(curl error: CurlError, tls: Bool, operation: String) {
        let detail = "curl \(error.code): \(error.summary)"
        let code: Code
        switch CURLcode(error.code) {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            code = .unreachable
        case CURLE_OPERATION_TIMEDOUT:
            code = .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED,
            CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            code = .tls
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING:
            // On TLS every read error says "OpenSSL SSL_read", a plain reset included: only an alert
            // from the peer makes it a TLS failure.
            code = tls && error.detail.lowercased().contains("alert") ? .tls : .transport
        default:
            code = .transport
        }
        self.init(code: code, message: error.reason, operation: operation, detail: detail)
    }
}
