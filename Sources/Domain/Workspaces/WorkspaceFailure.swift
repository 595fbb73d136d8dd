/// Why a workspace is in `error`: a code, a message the tenant may read, and the detail for admins.
///
/// The message never names an engine's address or repeats Docker's own text; the detail may, and it
/// reaches only the logs and the admin API.
public struct WorkspaceFailure: Sendable, Equatable, Error {
    /// A snake_case name of the case, e.g. `image_not_found`, `container_exited`, `server_lost`.
    public var code: String
    public var message: String
    public var detail: String?

    public init(code: String, message: String, detail: String? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }
}
