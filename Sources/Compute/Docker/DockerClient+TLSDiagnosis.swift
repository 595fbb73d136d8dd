import CCurl

extension DockerClient {
    /// Turns a libcurl failure into a `DockerError`, finding the TLS reason when libcurl lost it.
    ///
    /// A TLS 1.3 server checks the client certificate only after the handshake: when it refuses
    /// one, it sends an alert and closes. libcurl usually reads the alert ("… alert bad certificate")
    /// as a failed read, but when the server's reset arrives first the alert is lost and all that
    /// is left is a failed write or read (most of the time for a refused certificate against the
    /// local fleet). A TLS 1.2 handshake, in which the server checks the certificate before the
    /// handshake ends, then names the cause reliably; it sends no request.
    func classify(_ error: CurlError, operation: String) async -> DockerError {
        var classified = DockerError(curl: error, tls: endpoint.isTLS, operation: operation)
        // Without the peer's alert the text says only that a read or write failed ("bad write retry",
        // "getpeername() failed", "Connection reset by peer").
        let brokenAfterHandshake = [CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING].contains { error.is($0) }
            && !error.detail.lowercased().contains("alert")
        if endpoint.isTLS, brokenAfterHandshake, let reason = await handshakeFailure() {
            classified = DockerError(
                code: .tls, message: reason, operation: operation,
                detail: (classified.detail ?? "") + " (" + error.reason + "), then a TLS 1.2 handshake failed"
            )
        }
        if classified.code == .tls { classified.message += clientCertificateHint(for: classified.message) }
        return classified
    }

    /// The TLS text of a failed handshake-only probe, or nil when the handshake works or fails otherwise.
    private func handshakeFailure() async -> String? {
        var probe = CurlRequest(
            method: .get, url: endpoint.baseURL + "/_ping", timeout: min(timeout, .seconds(5)),
            connectTimeout: min(connectTimeout, .seconds(5))
        )
        endpoint.configure(&probe)
        probe.maximumTLSVersion = .tls12
        probe.connectOnly = true
        do {
            _ = try await engine.perform(probe)
            return nil
        } catch let error as CurlError {
            let probed = DockerError(curl: error, tls: true, operation: "")
            let lowered = probed.message.lowercased()
            // A server that only speaks TLS 1.3 refuses the probe itself, which says nothing about the first failure.
            guard probed.code == .tls, !lowered.contains("protocol version"), !lowered.contains("unsupported protocol") else {
                return nil
            }
            return probed.message
        } catch {
            return nil
        }
    }

    /// Says which side's certificate an alert is about, since servers send the same alert for a
    /// missing and for a refused client certificate.
    private func clientCertificateHint(for message: String) -> String {
        let lowered = message.lowercased()
        guard lowered.contains("alert"), lowered.contains("certificate") || lowered.contains("unknown ca"),
              case .https(_, _, let files) = endpoint
        else { return "" }
        return files.certificateFile == nil
            ? " (no client certificate was presented)"
            : " (the server refused the client certificate)"
    }
}
