import CCurl

/// A libcurl failure: the `CURLcode` with libcurl's own text for it and its error buffer.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    /// The raw `CURLcode`.
    public var code: UInt32
    /// `curl_easy_strerror` for the code.
    public var summary: String
    /// The transfer's `CURLOPT_ERRORBUFFER`: what exactly went wrong, e.g. the TLS layer's reason.
    public var detail: String

    public init(code: UInt32, summary: String, detail: String) {
        self.code = code
        self.summary = summary
        self.detail = detail
    }

    init(_ code: CURLcode, detail: String = "") {
        self.code = code.rawValue
        self.summary = String(cString: curl_easy_strerror(code))
        self.detail = detail
    }

    init(multi code: CURLMcode) {
        self.code = CURLE_FAILED_INIT.rawValue
        self.summary = String(cString: curl_multi_strerror(code))
        self.detail = ""
    }

    /// The engine was shut down before the transfer finished.
    static let engineStopped = CurlError(code: CURLE_FAILED_INIT.rawValue, summary: "curl engine stopped", detail: "")

    /// The most specific text available: the error buffer, else the code's summary.
    public var reason: String { detail.isEmpty ? summary : detail }

    public var description: String { "curl error \(code): \(reason)" }

    func `is`(_ other: CURLcode) -> Bool { code == other.rawValue }
}
