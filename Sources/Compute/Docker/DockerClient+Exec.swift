import Foundation

extension DockerClient {
    /// Runs `command` in a running container and returns its stdout, stderr and exit code.
    ///
    /// The exec is created attached to stdout and stderr without a TTY, so Docker sends both streams
    /// multiplexed in its framed format on the start request, which ends when the command does.
    /// Past `timeout` the call throws `.timeout`; Docker has no way to stop an exec, so the command
    /// itself may go on running in the container.
    public func exec(
        _ id: String,
        command: [String],
        environment: [String: String] = [:],
        workingDirectory: String? = nil,
        user: String? = nil,
        timeout limit: Duration = .seconds(60)
    ) async throws(DockerError) -> ExecResult {
        let deadline = ContinuousClock.now + limit
        let create = ExecCreateBody(
            cmd: command,
            env: environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
            workingDir: workingDirectory,
            user: user
        )
        let created = try decode(
            ExecCreateResponse.self,
            from: try await send(.post, "/containers/\(Self.escape(id))/exec", json: create),
            for: "POST /containers/{id}/exec"
        )
        let execPath = "/exec/\(Self.escape(created.id))"
        let started = try await send(
            .post, execPath + "/start", json: ExecStartBody(), timeout: remaining(until: deadline)
        )
        // Without a TTY the stream is framed, whatever the Content-Type says: Docker labels a
        // hijacked answer `raw-stream` unless the request asked for an upgrade.
        let output = try DockerStream.demultiplex(started.body)

        // The stream can close a moment before Docker records the exit code.
        while true {
            let inspected = try await get(ExecInspectResponse.self, execPath + "/json")
            if !inspected.running, let exitCode = inspected.exitCode {
                return ExecResult(stdout: output.stdout, stderr: output.stderr, exitCode: exitCode)
            }
            guard ContinuousClock.now < deadline else {
                throw DockerError(code: .timeout, message: "the command's exit code did not arrive in time", operation: "exec in \(id) on \(endpoint)")
            }
            do {
                try await Task.sleep(for: .milliseconds(20))
            } catch {
                throw DockerError.cancelled
            }
        }
    }

    private func remaining(until deadline: ContinuousClock.Instant) -> Duration {
        max(.milliseconds(1), deadline - ContinuousClock.now)
    }
}

/// The body of `POST /containers/{id}/exec`.
struct ExecCreateBody: Encodable {
    var attachStdin = false
    var attachStdout = true
    var attachStderr = true
    var tty = false
    var cmd: [String]
    var env: [String]
    var workingDir: String?
    var user: String?

    enum CodingKeys: String, CodingKey {
        case attachStdin = "AttachStdin"
        case attachStdout = "AttachStdout"
        case attachStderr = "AttachStderr"
        case tty = "Tty"
        case cmd = "Cmd"
        case env = "Env"
        case workingDir = "WorkingDir"
        case user = "User"
    }
}

/// The answer of `POST /containers/{id}/exec`.
struct ExecCreateResponse: Decodable {
    var id: String
    enum CodingKeys: String, CodingKey { case id = "Id" }
}

/// The body of `POST /exec/{id}/start`: attached, so the output comes back on this request.
struct ExecStartBody: Encodable {
    var detach = false
    var tty = false
    enum CodingKeys: String, CodingKey {
        case detach = "Detach"
        case tty = "Tty"
    }
}

/// The parts of `GET /exec/{id}/json` used here.
struct ExecInspectResponse: Decodable {
    var running: Bool
    var exitCode: Int?
    enum CodingKeys: String, CodingKey {
        case running = "Running"
        case exitCode = "ExitCode"
    }
}
