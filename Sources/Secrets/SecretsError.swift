/// A failure inside the secrets module; never carries key material.
public struct SecretsError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
