import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Reads what `make test` exported; a missing variable fails the test loudly, never skips it.
public enum TestEnvironment {
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static func require(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw Missing(description: "\(name) is not set: run the tests through `make test`, which starts PostgreSQL and the Docker fleet and exports it")
        }
        return value
    }

    /// The repository root, found from this file's location.
    public static var repositoryRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }

    /// Runs a command to completion and returns its output; throws with its output on failure.
    ///
    /// Spawned and reaped with posix_spawn and waitpid directly: output goes to a file, since a daemon
    /// the command starts may inherit a pipe and hold it open for ever.
    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let outputPath = NSTemporaryDirectory() + "berth-run-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let pid = try spawn(arguments, environment: environment, logPath: outputPath)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exitCode == 0 else {
            throw Missing(description: "\(arguments.joined(separator: " ")) exited \(exitCode): \(text)")
        }
        return text
    }

    /// Starts a long-running command in the background, its output going to `logPath`; returns its pid.
    public static func spawn(_ arguments: [String], environment: [String: String] = [:], logPath: String) throws -> pid_t {
        let quoted = arguments.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let shell = "exec \(quoted) </dev/null >'\(logPath)' 2>&1"
        let env = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }.map { "\($0)=\($1)" }
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(shell), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, argv, envp)
        guard spawned == 0 else { throw Missing(description: "cannot start \(arguments.joined(separator: " ")): errno \(spawned)") }
        return pid
    }

    /// A loopback TCP port the kernel says is free now. Random ports in 41000–49000 collided with the
    /// kernel's ephemeral range (32768–60999), where outgoing connections take their ports.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Missing(description: "cannot open a socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Missing(description: "cannot bind a loopback port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A set-up that did not become ready in time.
    public struct NotReady: Error, CustomStringConvertible {
        public let description: String
    }

    /// Polls `check` until it answers nil (ready), at least once and for at most `limit`; then throws
    /// `NotReady` with its last answer (what was still not ready) and the end of each of `logs`.
    /// A set-up must never fall through into the test as if it were ready.
    public static func waitUntilReady(
        within limit: Duration, every interval: Duration = .milliseconds(100), logs: [String] = [],
        _ check: () async throws -> String?
    ) async throws {
        let deadline = ContinuousClock.now + limit
        var missing = try await check()
        while missing != nil && ContinuousClock.now < deadline {
            try await Task.sleep(for: interval)
            missing = try await check()
        }
        guard let missing else { return }
        var text = "not ready after \(limit): \(missing)"
        for path in logs {
            let log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no log)"
            text += "\n--- the end of \(path):\n" + log.split(separator: "\n", omittingEmptySubsequences: false).suffix(20).joined(separator: "\n")
        }
        throw NotReady(description: text)
    }

    /// Sends SIGTERM and reaps the process, waiting up to `timeout`, then SIGKILL. Returns the exit
    /// code when the process exited by itself, nil when it died of a signal or had to be killed.
    @discardableResult
    public static func terminate(_ pid: pid_t, timeout: Duration = .seconds(10)) -> Int32? {
        kill(pid, SIGTERM)
        let end = ContinuousClock.now + timeout
        var status: Int32 = 0
        while ContinuousClock.now < end {
            if waitpid(pid, &status, WNOHANG) == pid {
                // WIFEXITED and WEXITSTATUS, which Swift does not import.
                return status & 0x7f == 0 ? (status >> 8) & 0xff : nil
            }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return nil
    }
}

/// A process started with `TestEnvironment.spawn`, terminated at most once: once reaped, its pid
/// may belong to another process, so a second SIGTERM must never be sent.
public final class SpawnedProcess: Sendable {
    public let pid: pid_t
    private let outcome = Mutex<Int32??>(nil)

    public init(pid: pid_t) { self.pid = pid }

    /// Waits up to `limit` for the process to exit by itself and returns its exit code (128 + the
    /// signal when a signal ended it), or nil when it is still running.
    public func exitCode(within limit: Duration) -> Int32? {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            let reaped: Int32?? = outcome.withLock { known in
                if let known { return .some(known) }
                var status: Int32 = 0
                guard waitpid(pid, &status, WNOHANG) == pid else { return .none }
                let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                known = .some(code)
                return .some(code)
            }
            if let reaped { return reaped }
            usleep(20_000)
        }
        return nil
    }

    /// `TestEnvironment.terminate` the first time; the same answer afterwards.
    @discardableResult
    public func terminate(timeout: Duration = .seconds(10)) -> Int32? {
        outcome.withLock { known in
            if let known { return known }
            let code = TestEnvironment.terminate(pid, timeout: timeout)
            known = .some(code)
            return code
        }
    }
}

/// Lets waiting tasks go on once it is opened.
public final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    public func wait() async {
        await withCheckedContinuation { continuation in
            let go = state.withLock { state in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if go { continuation.resume() }
        }
    }

    public func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
