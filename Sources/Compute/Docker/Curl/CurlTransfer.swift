import CCurl
import Foundation

/// One easy handle and the buffers libcurl writes into while it runs.
///
/// Lives only on the engine's thread (not Sendable): created there, added to the multi handle,
/// and freed in `deinit` once removed from it.
final class CurlTransfer {
    let handle: UnsafeMutableRawPointer
    let pending: CurlPendingTransfer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// libcurl does not copy `CURLOPT_POSTFIELDS`, so the body lives here until the handle is freed.
    private var requestBody: UnsafeMutableRawBufferPointer?
    fileprivate var responseBody = Data()
    fileprivate var responseHeaders: [(name: String, value: String)] = []

    init(_ pending: CurlPendingTransfer) throws(CurlError) {
        guard let handle = curl_easy_init() else { throw CurlError(CURLE_FAILED_INIT, detail: "curl_easy_init failed") }
        self.handle = handle
        self.pending = pending
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        try configure(pending.request)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
        requestBody?.deallocate()
    }

    /// The response, or the typed failure, for the transfer's final `CURLcode`.
    func result(for code: CURLcode) -> Result<CurlResponse, any Error> {
        guard code == CURLE_OK else {
            return .failure(CurlError(code, detail: String(cString: errorBuffer)))
        }
        var status = 0
        _ = berth_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var connects = 0
        _ = berth_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        return .success(CurlResponse(status: status, headers: responseHeaders, body: responseBody, newConnections: connects))
    }

    private func configure(_ request: CurlRequest) throws(CurlError) {
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        // Signals are process-wide; libcurl must never use them from our thread.
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        // Docker hijacks HTTP/1.1 connections for exec and attach; HTTP/2 (offered over TLS) cannot do that.
        try set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        try set(CURLOPT_TIMEOUT_MS, request.timeout.curlMilliseconds)
        try set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.curlMilliseconds)
        try set(CURLOPT_TCP_KEEPALIVE, 1)

        let context = Unmanaged.passUnretained(self).toOpaque()
        try check(berth_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteBody))
        try set(CURLOPT_WRITEDATA, pointer: context)
        try check(berth_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, curlWriteHeader))
        try set(CURLOPT_HEADERDATA, pointer: context)

        if let path = request.unixSocketPath {
            try set(CURLOPT_UNIX_SOCKET_PATH, path)
        }
        if let tls = request.tls {
            try set(CURLOPT_SSL_VERIFYPEER, 1)
            try set(CURLOPT_SSL_VERIFYHOST, 2)
            try set(CURLOPT_CAINFO, tls.caFile)
            if let certificate = tls.certificateFile { try set(CURLOPT_SSLCERT, certificate) }
            if let key = tls.keyFile { try set(CURLOPT_SSLKEY, key) }
        }
        switch request.maximumTLSVersion {
        case .tls12: try set(CURLOPT_SSLVERSION, CURL_SSLVERSION_DEFAULT | CURL_SSLVERSION_MAX_TLSv1_2)
        case .tls13: try set(CURLOPT_SSLVERSION, CURL_SSLVERSION_DEFAULT | CURL_SSLVERSION_MAX_TLSv1_3)
        case nil: break
        }
        if request.connectOnly {
            try set(CURLOPT_CONNECT_ONLY, 1)
        }

        var headers = request.headers
        switch request.method {
        case .get:
            try set(CURLOPT_HTTPGET, 1)
        case .head:
            try set(CURLOPT_NOBODY, 1)
        case .post, .put, .patch, .delete:
            if request.method != .post {
                try set(CURLOPT_CUSTOMREQUEST, request.method.rawValue)
            }
            if request.method == .post || request.body != nil {
                try attachBody(request.body ?? Data())
                // Waiting for `100 Continue` on large bodies only adds a round trip here.
                headers.append((name: "Expect", value: ""))
                // libcurl would label the body as a form; with no type given, send none.
                if !headers.contains(where: { $0.name.caseInsensitiveCompare("Content-Type") == .orderedSame }) {
                    headers.append((name: "Content-Type", value: ""))
                }
            }
        }
        for (name, value) in headers {
            // "Name:" with nothing after it removes a header libcurl would add on its own.
            let line = value.isEmpty ? "\(name):" : "\(name): \(value)"
            guard let list = curl_slist_append(headerList, line) else {
                throw CurlError(CURLE_OUT_OF_MEMORY, detail: "curl_slist_append failed")
            }
            headerList = list
        }
        if let headerList { try check(berth_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)) }
    }

    private func attachBody(_ body: Data) throws(CurlError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(body.count, 1), alignment: 1)
        requestBody = buffer
        body.withUnsafeBytes { buffer.copyMemory(from: $0) }
        try check(berth_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
        try set(CURLOPT_POSTFIELDS, pointer: buffer.baseAddress)
        try set(CURLOPT_POST, 1)
    }

    fileprivate func appendHeaderLine(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            // A new response starts (after `100 Continue`, say): keep only the last one's headers.
            responseHeaders.removeAll()
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = String(trimmed[..<colon])
        let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        responseHeaders.append((name: name, value: value))
    }

    private func set(_ option: CURLoption, _ value: Int) throws(CurlError) {
        try check(berth_curl_setopt_long(handle, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws(CurlError) {
        // libcurl copies string options (all but POSTFIELDS) before returning.
        let code = value.withCString { berth_curl_setopt_string(handle, option, $0) }
        try check(code)
    }

    private func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(CurlError) {
        try check(berth_curl_setopt_pointer(handle, option, pointer))
    }

    private func check(_ code: CURLcode) throws(CurlError) {
        guard code == CURLE_OK else { throw CurlError(code, detail: "setting up the request failed") }
    }
}

/// `CURLOPT_WRITEFUNCTION`: appends body bytes to the transfer given as user data.
private func curlWriteBody(
    _ pointer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    if let pointer, length > 0 {
        transfer.responseBody.append(UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length)
    }
    return length
}

/// `CURLOPT_HEADERFUNCTION`: called once per header line, status lines included.
private func curlWriteHeader(
    _ pointer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    if let pointer, length > 0 {
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        transfer.appendHeaderLine(String(decoding: bytes, as: UTF8.self))
    }
    return length
}
