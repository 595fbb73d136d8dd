import HTTPTypes

/// A refusal the panel answers with an HTML page rather than the JSON error shape.
struct PanelError: Error {
    let status: HTTPResponse.Status
    /// Shown on the page, escaped: never a secret.
    let message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }
}
