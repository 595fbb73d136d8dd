import API
import ArgumentParser
import Compute
import Domain
import Foundation
import Logging
import Persistence

/// `berth server …`: the fleet from a shell, through the same functions as the admin API (the
/// same validation, the same audit rows).
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server", abstract: "Manage workspace servers.",
        subcommands: [List.self, Add.self, Cordon.self, Uncordon.self, Drain.self, Remove.self]
    )

    /// One server as a JSON line.
    static func line(_ server: WorkspaceServer) -> [String: Any] {
        [
            "id": server.id.description, "name": server.name, "host": server.connection.host, "docker_port": server.connection.dockerPort,
            "tls_enabled": server.connection.tlsEnabled, "network_mode": server.connection.networkMode, "status": server.status.rawValue,
            "schedulable": server.schedulable.rawValue,
            "capacity": ["cpu": Double(server.capacity.cpuMillis) / 1000, "memory_mb": server.capacity.memoryMB, "disk_gb": server.capacity.diskGB, "max_workspaces": server.capacity.workspaces],
            "reserved": ["cpu": Double(server.reserved.cpuMillis) / 1000, "memory_mb": server.reserved.memoryMB, "disk_gb": server.reserved.diskGB, "workspaces": server.reserved.workspaces],
        ]
    }

    static func print(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        Swift.print(String(decoding: data, as: UTF8.self))
    }

    /// The server named `name` (or with that id), or a one-line failure.
    static func find(_ name: String, in db: Database) async throws -> WorkspaceServer {
        let servers = try await db.withSystem { try await WorkspaceServerStore().list(in: $0) }
        guard let server = servers.first(where: { $0.name == name || $0.id.description == name.lowercased() }) else {
            Bootstrap.fail("no server named \(name)")
        }
        return server
    }

    /// The administration, with an orchestrator so that calling a drain off also calls its moves off.
    static func administration(_ db: Database) -> ServerAdministration {
        let pool = DockerServerPool()
        let placement = PlacementService(database: db, logger: Logger(label: "berth.cli"))
        let orchestrator = WorkspaceOrchestrator(database: db, placement: placement, pool: pool, logger: Logger(label: "berth.cli"))
        return ServerAdministration(database: db, pool: pool, orchestrator: orchestrator)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the servers, one JSON object per line.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let servers = try await CommandDatabase.run(database) { db in try await db.withSystem { try await WorkspaceServerStore().list(in: $0) } }
            for server in servers { ServerCommand.print(ServerCommand.line(server)) }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a server: validated, then connected to once.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "A unique name, e.g. ws-eu-1.") var name: String
        @Option(help: "Host name or address of the Docker Engine.") var host: String
        @Option(help: "The engine's TCP port.") var port: Int = 2375
        @Flag(help: "Mutual TLS, with ca.pem, cert.pem and key.pem in --cert-path (see `berth certs`).") var tls = false
        @Option(help: "The folder of the TLS files.") var certPath: String?
        @Option(help: "A unix socket to reach the engine by, instead of TCP.") var socketPath: String?
        @Flag(help: "Allow plain TCP to a host that is not loopback.") var insecure = false
        @Option(help: "none, isolated or host.") var networkMode: String?
        @Option(help: "CPU cores to offer.") var cpu: Double?
        @Option(help: "Memory to offer, in MB.") var memoryMb: Int?
        @Option(help: "Disk to offer, in GB.") var diskGb: Int?
        @Option(help: "Most workspaces at once.") var maxWorkspaces: Int?
        @Option(name: .customLong("label"), help: "key=value, repeatable.") var labels: [String] = []

        func run() async throws {
            var object: [String: Any] = ["name": name, "host": host, "docker_port": port, "tls_enabled": tls, "insecure": insecure]
            if let certPath { object["cert_path"] = certPath }
            if let socketPath { object["socket_path"] = socketPath }
            if let networkMode { object["network_mode"] = networkMode }
            if let cpu { object["total_cpu"] = cpu }
            if let memoryMb { object["total_memory_mb"] = memoryMb }
            if let diskGb { object["total_disk_gb"] = diskGb }
            if let maxWorkspaces { object["max_workspaces"] = maxWorkspaces }
            var labelObject: [String: String] = [:]
            for label in labels {
                let parts = label.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { Bootstrap.fail("--label takes key=value") }
                labelObject[String(parts[0])] = String(parts[1])
            }
            if !labelObject.isEmpty { object["labels"] = labelObject }
            // The admin API's own validation, from the same JSON body.
            let registration: WorkspaceServerStore.Registration
            do {
                registration = try ServerRegistrations.parseServer(Array(try JSONSerialization.data(withJSONObject: object)))
            } catch let error as ServerRegistrations.Invalid {
                Bootstrap.fail(error.description)
            }
            let (server, connection) = try await CommandDatabase.run(database) { db in try await ServerCommand.administration(db).add(registration) }
            var line = ServerCommand.line(server)
            line["connection"] = connection.ok ? ["ok": true, "docker_version": connection.docker_version ?? ""] : ["ok": false, "error": connection.error ?? ""]
            ServerCommand.print(line)
        }
    }

    struct Cordon: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Place no new workspaces on a server.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The server's name.") var name: String
        func run() async throws { try await ServerCommand.schedule(database, name, .cordoned, deadline: nil) }
    }

    struct Uncordon: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Place workspaces on a server again (and call a drain's moves off).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The server's name.") var name: String
        func run() async throws { try await ServerCommand.schedule(database, name, .active, deadline: nil) }
    }

    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move every workspace off a server (the running service's scaling loop does), until it is empty or the deadline passes."
        )
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The server's name.") var name: String
        @Option(help: "Seconds the drain may run.") var deadline: Int = 3600
        func validate() throws {
            guard (1...604_800).contains(deadline) else { throw ValidationError("--deadline must be from 1 to 604800 seconds") }
        }
        func run() async throws { try await ServerCommand.schedule(database, name, .draining, deadline: .seconds(deadline)) }
    }

    static func schedule(_ options: DatabaseOptions, _ name: String, _ state: WorkspaceServer.Schedulable, deadline: Duration?) async throws {
        let outcome = try await CommandDatabase.run(options) { db in
            let server = try await ServerCommand.find(name, in: db)
            return try await ServerCommand.administration(db).schedule(server.id, state, deadline: deadline)
        }
        guard let (server, workspaces, drain) = outcome else { Bootstrap.fail("no server named \(name)") }
        var line = ServerCommand.line(server)
        line["workspaces_remaining"] = workspaces.count
        if let drain {
            line["drain"] = ["state": drain.state.rawValue, "moved": drain.moved, "remaining": drain.remaining, "failed": drain.failed.count]
        }
        ServerCommand.print(line)
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a server that holds no workspaces.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The server's name.") var name: String

        func run() async throws {
            let outcome = try await CommandDatabase.run(database) { db in
                try await ServerCommand.administration(db).remove(try await ServerCommand.find(name, in: db).id)
            }
            switch outcome {
            case .removed: ServerCommand.print(["removed": name])
            case .notFound: Bootstrap.fail("no server named \(name)")
            case .busy(let workspaces):
                Bootstrap.fail("\(name) still holds \(workspaces.count) workspace(s): drain it first (\(workspaces.prefix(5).map(\.name).joined(separator: ", ")))")
            }
        }
    }
}
