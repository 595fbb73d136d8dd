import Foundation

/// What a command run with `DockerClient.exec` printed, separated by stream, and how it ended.
public struct ExecResult: Sendable, Equatable {
    public var stdout: Data
    public var stderr: Data
    public var exitCode: Int

    public init(stdout: Data, stderr: Data, exitCode: Int) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
    }

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}
