import Foundation

/// The OpenAPI 3.1 description of every route that exists, with schemas for bodies and errors.
enum OpenAPIDocument {
    /// The document served at `/openapi.json`: `written`, with the answers every route of a kind
    /// may give added to each of its operations, so no route can forget them.
    static let json: String = {
        guard var document = try? JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: Any],
            var paths = document["paths"] as? [String: Any]
        else { return written }
        let error: [String: Any] = ["$ref": "#/components/responses/Error"]
        let workspace: [String: Any] = ["$ref": "#/components/responses/Workspace"]
        for (path, item) in paths {
            guard var item = item as? [String: Any] else { continue }
            for method in ["get", "post", "patch", "delete", "put"] {
                guard var operation = item[method] as? [String: Any], var responses = operation["responses"] as? [String: Any] else { continue }
                // Any route that reads the database may find it unavailable, slow or busy.
                if path.hasPrefix("/v1/") || path.hasPrefix("/admin/") { responses["503"] = responses["503"] ?? error }
                // Tenant routes are held to the tenant's concurrency and rate.
                if path.hasPrefix("/v1/") { responses["429"] = responses["429"] ?? error }
                // A lifecycle change Docker has not applied yet is accepted, and finished by the reconciler.
                if path.hasPrefix("/v1/workspaces/{id}"), (method == "delete" || ["/start", "/stop", "/restart", "/resize"].contains { path.hasSuffix($0) }) {
                    responses["202"] = responses["202"] ?? workspace
                }
                operation["responses"] = responses
                item[method] = operation
            }
            paths[path] = item
        }
        document["paths"] = paths
        guard let data = try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]) else { return written }
        return String(decoding: data, as: UTF8.self)
    }()

    /// The document as written; see `json`.
    static let written = #"""
    {
      "openapi": "3.1.0",
      "info": {"title": "Berth", "version": "0.1.0", "description": "Multi-tenant workspace orchestration on Docker Engines."},
      "servers": [{"url": "/"}],
      "components": {
        "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "A tenant API key (berth_<prefix>_<secret>)."},
          "adminToken": {"type": "http", "scheme": "bearer", "description": "The admin token (BERTH_ADMIN_TOKEN)."}},
        "schemas": {
          "Error": {
            "type": "object", "required": ["error"], "additionalProperties": false,
            "properties": {"error": {"type": "object", "required": ["code", "message", "details"], "additionalProperties": false,
              "properties": {"code": {"type": "string", "pattern": "^[a-z_]+$"}, "message": {"type": "string"}, "details": {"type": "object"}}}}
          },
          "Status": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
          "Resources": {
            "type": "object", "required": ["cpu", "memory_mb"], "additionalProperties": false,
            "properties": {"cpu": {"type": "number", "minimum": 0.1, "maximum": 64}, "memory_mb": {"type": "integer", "minimum": 16, "maximum": 262144},
                           "disk_gb": {"type": "integer", "minimum": 0, "maximum": 2048}}
          },
          "CreateWorkspace": {
            "type": "object", "required": ["name", "image", "resources"], "additionalProperties": false,
            "properties": {
              "name": {"type": "string", "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"},
              "image": {"type": "string", "minLength": 1, "maxLength": 255},
              "resources": {"$ref": "#/components/schemas/Resources"},
              "command": {"type": ["array", "null"], "items": {"type": "string"}, "minItems": 1, "maxItems": 256},
              "env": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 64},
              "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 255}, "maxProperties": 32},
              "repository": {"type": ["object", "null"], "additionalProperties": false, "required": ["url"],
                "description": "Cloned inside the container once it runs (repository.status in every answer). The token is sealed at once and never shown again.",
                "properties": {
                  "url": {"type": "string", "minLength": 1, "maxLength": 2048, "description": "https:// (git:// and http:// only where the service allows them); no credentials in it"},
                  "branch": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
                  "commit": {"type": ["string", "null"], "pattern": "^[0-9a-fA-F]{7,64}$"},
                  "depth": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000000},
                  "submodules": {"type": ["boolean", "null"]},
                  "path": {"type": ["string", "null"], "description": "Absolute path in the container (default /workspace/<repository name>)"},
                  "username": {"type": ["string", "null"], "description": "Sent with the token as basic auth (default git)"},
                  "token": {"type": ["string", "null"], "minLength": 1, "maxLength": 4096, "writeOnly": true}}},
              "placement": {"type": ["object", "null"], "additionalProperties": false, "properties": {
                "strategy": {"enum": ["spread", "best_fit", "affinity", "round_robin"]},
                "preferred_server": {"type": ["string", "null"]},
                "soft": {"type": "boolean"},
                "constraints": {"type": ["object", "null"]}}},
              "idle_stop_minutes": {"type": "number", "minimum": 0, "maximum": 525600, "description": "Stop it after this long without activity (a heartbeat or CPU use); 0 never; default the tenant's"},
              "max_lifetime_minutes": {"type": "number", "minimum": 0, "maximum": 5256000, "description": "Stop it this long after its creation; 0 never; default the tenant's"}
            }
          },
          "Workspace": {
            "type": "object",
            "required": ["id", "name", "status", "image", "resources", "labels", "created_at"],
            "properties": {
              "id": {"type": "string", "format": "uuid"},
              "name": {"type": "string"},
              "status": {"enum": ["pending", "creating", "starting", "running", "stopping", "stopped", "deleting", "deleted", "error"]},
              "server": {"type": ["object", "null"], "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}}},
              "container_id": {"type": ["string", "null"]},
              "image": {"type": "string"},
              "resources": {"type": "object", "properties": {"cpu": {"type": "number"}, "memory_mb": {"type": "integer"}, "disk_gb": {"type": "integer"}}},
              "repository": {"type": ["object", "null"], "required": ["url", "path", "status"], "properties": {
                "url": {"type": "string"}, "branch": {"type": ["string", "null"]}, "commit": {"type": ["string", "null"]}, "path": {"type": "string"},
                "status": {"enum": ["none", "pending", "cloning", "ready", "failed"]}, "error": {"type": ["string", "null"]},
                "error_code": {"type": ["string", "null"], "description": "auth_failed, repository_not_found, branch_not_found, commit_not_found, timeout, network, no_network, token_unavailable, git_missing, ..."}}},
              "labels": {"type": "object", "additionalProperties": {"type": "string"}},
              "created_at": {"type": "string", "format": "date-time"},
              "started_at": {"type": ["string", "null"], "format": "date-time"},
              "stopped_at": {"type": ["string", "null"], "format": "date-time"},
              "error": {"type": ["string", "null"], "description": "What went wrong, in Berth's words"},
              "error_code": {"type": ["string", "null"], "description": "container_exited, container_gone, image_not_found, docker_refused, server_unreachable, server_lost, ..."},
              "idle_stop_minutes": {"type": ["number", "null"], "description": "The idle period in force (the workspace's, else its tenant's); null or 0: never"},
              "idle_stop_at": {"type": ["string", "null"], "format": "date-time", "description": "When a running workspace is stopped unless there is activity before"},
              "max_lifetime_minutes": {"type": ["number", "null"]},
              "expires_at": {"type": ["string", "null"], "format": "date-time", "description": "When it is stopped for having reached its maximum lifetime"}
            }
          },
          "ResizeWorkspace": {
            "type": "object", "required": ["resources"], "additionalProperties": false,
            "properties": {"resources": {"$ref": "#/components/schemas/Resources"},
              "allow_move": {"type": "boolean", "description": "When its server has no room, move it (with its /workspace files) to one that has"}}
          },
          "WorkspaceHealth": {
            "type": "object", "required": ["id", "status", "healthy", "checked_at"],
            "properties": {
              "id": {"type": "string", "format": "uuid"},
              "status": {"type": "string"},
              "healthy": {"type": "boolean"},
              "container": {"type": ["object", "null"], "properties": {
                "state": {"type": "string"}, "running": {"type": "boolean"}, "exit_code": {"type": "integer"},
                "oom_killed": {"type": "boolean"}, "restart_count": {"type": "integer"},
                "started_at": {"type": ["string", "null"], "format": "date-time"}, "finished_at": {"type": ["string", "null"], "format": "date-time"}}},
              "cpu_cores": {"type": ["number", "null"]},
              "memory_usage_mb": {"type": ["integer", "null"]},
              "memory_limit_mb": {"type": ["integer", "null"]},
              "last_activity_at": {"type": ["string", "null"], "format": "date-time"},
              "checked_at": {"type": "string", "format": "date-time"},
              "problem": {"type": ["string", "null"]}
            }
          },
          "Activity": {
            "type": "object", "required": ["id", "last_activity_at"],
            "properties": {"id": {"type": "string", "format": "uuid"}, "last_activity_at": {"type": "string", "format": "date-time"}}
          },
          "Figures": {"type": "object", "required": ["cpu", "memory_mb", "disk_gb", "workspaces"],
            "properties": {"cpu": {"type": "number"}, "memory_mb": {"type": "integer"}, "disk_gb": {"type": "integer"}, "workspaces": {"type": "integer"}}},
          "Server": {
            "type": "object", "required": ["id", "name", "host", "docker_port", "tls_enabled", "status", "schedulable", "capacity", "reserved", "labels"],
            "properties": {
              "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "host": {"type": "string"}, "docker_port": {"type": "integer"},
              "tls_enabled": {"type": "boolean"}, "cert_path": {"type": ["string", "null"]}, "socket_path": {"type": ["string", "null"]},
              "insecure": {"type": "boolean"}, "network_mode": {"enum": ["none", "isolated", "host", "bridge"]}, "labels": {"type": "object"},
              "status": {"enum": ["healthy", "unhealthy", "offline"]}, "schedulable": {"enum": ["active", "cordoned", "draining"]},
              "last_health_check": {"type": ["string", "null"], "format": "date-time"}, "last_healthy_at": {"type": ["string", "null"], "format": "date-time"},
              "last_error": {"type": ["string", "null"]}, "consecutive_failures": {"type": "integer"},
              "capacity": {"$ref": "#/components/schemas/Figures"}, "reserved": {"$ref": "#/components/schemas/Figures"},
              "observed": {"type": ["object", "null"]}, "created_at": {"type": ["string", "null"], "format": "date-time"}
            }
          },
          "CreateServer": {
            "type": "object", "required": ["name", "host"], "additionalProperties": false,
            "properties": {
              "name": {"type": "string", "pattern": "^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$"}, "host": {"type": "string", "minLength": 1, "maxLength": 255},
              "docker_port": {"type": "integer", "minimum": 1, "maximum": 65535}, "tls_enabled": {"type": "boolean"}, "cert_path": {"type": ["string", "null"]},
              "socket_path": {"type": ["string", "null"]}, "insecure": {"type": "boolean"}, "network_mode": {"enum": ["none", "isolated", "host", "bridge"]},
              "total_cpu": {"type": "number", "exclusiveMinimum": 0}, "total_memory_mb": {"type": "integer", "minimum": 1},
              "total_disk_gb": {"type": "integer", "minimum": 0}, "max_workspaces": {"type": "integer", "minimum": 1}, "labels": {"type": "object"}
            }
          },
          "UpdateServer": {
            "type": "object", "additionalProperties": false,
            "properties": {"total_cpu": {"type": "number", "exclusiveMinimum": 0}, "total_memory_mb": {"type": "integer", "minimum": 1},
              "total_disk_gb": {"type": "integer", "minimum": 0}, "max_workspaces": {"type": "integer", "minimum": 1}, "labels": {"type": "object"}}
          },
          "AdminWorkspace": {
            "type": "object", "required": ["id", "tenant", "name", "status", "image", "resources", "labels", "created_at"],
            "properties": {"id": {"type": "string", "format": "uuid"}, "tenant": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
              "name": {"type": "string"}, "status": {"type": "string"}, "server": {"type": ["object", "null"]}, "container_id": {"type": ["string", "null"]},
              "image": {"type": "string"}, "resources": {"type": "object"}, "labels": {"type": "object"},
              "created_at": {"type": "string", "format": "date-time"}, "error": {"type": ["string", "null"]},
              "error_code": {"type": ["string", "null"]}, "error_detail": {"type": ["string", "null"], "description": "What Docker or the engine said; for admins only"},
              "idle_stop_at": {"type": ["string", "null"], "format": "date-time"}, "expires_at": {"type": ["string", "null"], "format": "date-time"},
              "moving_to": {"type": ["string", "null"], "description": "The server a move is taking it to"}, "move_error": {"type": ["string", "null"], "description": "Why its last move failed"}}
          },
          "AdminWorkspacePage": {"type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/AdminWorkspace"}}, "next_cursor": {"type": ["string", "null"]}}},
          "ServerPage": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Server"}}}},
          "ServerAdded": {"type": "object", "required": ["server", "connection"], "properties": {"server": {"$ref": "#/components/schemas/Server"},
            "connection": {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}, "docker_version": {"type": ["string", "null"]},
              "ncpu": {"type": ["integer", "null"]}, "memory_total_mb": {"type": ["integer", "null"]}, "error": {"type": ["string", "null"]}}}}},
          "ServerDetail": {"type": "object", "required": ["server", "workspaces"], "properties": {"server": {"$ref": "#/components/schemas/Server"},
            "workspaces": {"type": "array", "items": {"$ref": "#/components/schemas/AdminWorkspace"}}}},
          "ServerScheduled": {"type": "object", "required": ["server", "workspaces_remaining"], "properties": {"server": {"$ref": "#/components/schemas/Server"},
            "workspaces_remaining": {"type": "array", "items": {"$ref": "#/components/schemas/AdminWorkspace"}},
            "drain": {"oneOf": [{"$ref": "#/components/schemas/DrainProgress"}, {"type": "null"}]}}},
          "ServerStats": {"type": "object", "required": ["server"], "properties": {"server": {"$ref": "#/components/schemas/Server"},
            "error": {"type": ["string", "null"], "description": "Why the engine gave no figures, when it did not answer"},
            "live": {"type": ["object", "null"], "required": ["engine", "workspaces", "sampled_at"], "properties": {
              "engine": {"type": "object", "properties": {"docker_version": {"type": "string"}, "ncpu": {"type": "integer"}, "memory_total_mb": {"type": "integer"},
                "containers": {"type": "integer"}, "containers_running": {"type": "integer"}}},
              "workspaces": {"type": "object", "properties": {"containers": {"type": "integer"}, "running": {"type": "integer"}, "cpu_cores": {"type": "number"},
                "memory_used_mb": {"type": "integer"}, "unknown_containers": {"type": "array", "items": {"type": "string"}}}},
              "sampled_at": {"type": "string", "format": "date-time"}}}}},
          "Cluster": {"type": "object", "required": ["servers", "total", "reserved", "utilisation", "observed", "servers_by_status", "servers_by_schedulable", "workspaces_by_status", "schedulable_total"],
            "properties": {"servers": {"type": "integer"}, "total": {"$ref": "#/components/schemas/Figures"}, "reserved": {"$ref": "#/components/schemas/Figures"},
              "schedulable_total": {"$ref": "#/components/schemas/Figures"},
              "utilisation": {"type": "object", "additionalProperties": {"type": "number"}},
              "observed": {"type": "object", "properties": {"ncpu": {"type": "integer"}, "memory_total_mb": {"type": "integer"}, "containers": {"type": "integer"}, "containers_running": {"type": "integer"},
                "workspace_cpu_cores": {"type": "number"}, "workspace_memory_mb": {"type": "integer"}}},
              "servers_by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
              "servers_by_schedulable": {"type": "object", "additionalProperties": {"type": "integer"}},
              "workspaces_by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
              "capacity": {"type": "object", "required": ["servers", "servers_needed", "headroom_target", "utilisation", "headroom", "typical_server", "recommendation"], "properties": {
                "servers": {"type": "integer", "description": "Healthy servers open to placement"}, "servers_needed": {"type": "integer", "description": "Servers of the typical size that keep the headroom"},
                "headroom_target": {"type": "number"}, "utilisation": {"type": "object", "additionalProperties": {"type": "number"}}, "headroom": {"type": "object", "additionalProperties": {"type": "number"}},
                "typical_server": {"type": "object", "properties": {"cpu": {"type": "number"}, "memory_mb": {"type": "integer"}, "disk_gb": {"type": "integer"}, "max_workspaces": {"type": "integer"}}},
                "recommendation": {"enum": ["none", "scale_out", "scale_in"]}}}}},
          "DrainProgress": {"type": "object", "required": ["state", "moved", "remaining", "moving", "failed"], "properties": {
            "state": {"enum": ["draining", "drained", "expired"]}, "started_at": {"type": ["string", "null"], "format": "date-time"}, "deadline": {"type": ["string", "null"], "format": "date-time"},
            "moved": {"type": "integer"}, "remaining": {"type": "integer"}, "moving": {"type": "integer"},
            "failed": {"type": "array", "items": {"type": "object", "required": ["workspace_id", "name", "status", "attempts", "error"], "properties": {
              "workspace_id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "status": {"type": "string"}, "attempts": {"type": "integer"}, "error": {"type": "string"}}}}}},
          "DrainServer": {"type": "object", "additionalProperties": false, "properties": {"deadline_seconds": {"type": "integer", "minimum": 1, "maximum": 604800}}},
          "Tenant": {"type": "object", "required": ["id", "name", "status", "quota", "created_at"],
            "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}, "status": {"enum": ["active", "suspended"]},
              "quota": {"type": "object", "required": ["max_workspaces", "max_cpu", "max_memory_mb", "max_disk_gb"], "properties": {"max_workspaces": {"type": "integer"}, "max_cpu": {"type": "number"}, "max_memory_mb": {"type": "integer"}, "max_disk_gb": {"type": "integer"}}},
              "idle_stop_minutes": {"type": ["number", "null"]}, "max_lifetime_minutes": {"type": ["number", "null"]},
              "price_plan_id": {"type": ["string", "null"], "description": "The plan in force now."}, "created_at": {"type": "string", "format": "date-time"},
              "plan_history": {"type": "array", "description": "Which plan from when, oldest first (in a tenant's detail); effective_from null is since always.",
                "items": {"type": "object", "required": ["price_plan_id"], "properties": {"effective_from": {"type": ["string", "null"], "format": "date-time"}, "price_plan_id": {"type": ["string", "null"]}}}}}},
          "TenantPage": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Tenant"}}, "next_cursor": {"type": ["string", "null"]}}},
          "CreateTenant": {"type": "object", "required": ["name"], "additionalProperties": false,
            "properties": {"name": {"type": "string", "pattern": "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"}, "status": {"enum": ["active", "suspended"]},
              "max_workspaces": {"type": "integer", "minimum": 0, "maximum": 100000}, "max_cpu": {"type": "number", "minimum": 0, "maximum": 100000},
              "max_memory_mb": {"type": "integer", "minimum": 0}, "price_plan_id": {"type": ["string", "null"], "format": "uuid"},
              "max_disk_gb": {"type": "integer", "minimum": 0}, "idle_stop_minutes": {"type": "number", "minimum": 0, "maximum": 525600},
              "max_lifetime_minutes": {"type": "number", "minimum": 0, "maximum": 5256000}}},
          "UpdateTenant": {"type": "object", "additionalProperties": false,
            "properties": {"status": {"enum": ["active", "suspended"]}, "max_workspaces": {"type": "integer", "minimum": 0, "maximum": 100000},
              "max_cpu": {"type": "number", "minimum": 0, "maximum": 100000}, "max_memory_mb": {"type": "integer", "minimum": 0}, "price_plan_id": {"type": ["string", "null"], "format": "uuid"},
              "max_disk_gb": {"type": "integer", "minimum": 0}, "idle_stop_minutes": {"type": "number", "minimum": 0, "maximum": 525600},
              "max_lifetime_minutes": {"type": "number", "minimum": 0, "maximum": 5256000},
              "price_plan_effective_from": {"type": "string", "format": "date-time", "description": "When the new price_plan_id takes effect: now or later, never in the past (default now)."}}},
          "ApiKey": {"type": "object", "required": ["id", "name", "prefix", "created_at"], "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
            "prefix": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}, "last_used_at": {"type": ["string", "null"], "format": "date-time"},
            "revoked_at": {"type": ["string", "null"], "format": "date-time"}}},
          "TenantDetail": {"type": "object", "required": ["tenant", "api_keys", "live_workspaces"], "properties": {"tenant": {"$ref": "#/components/schemas/Tenant"},
            "api_keys": {"type": "array", "items": {"$ref": "#/components/schemas/ApiKey"}}, "live_workspaces": {"type": "integer"}}},
          "IssuedKey": {"type": "object", "required": ["key", "secret"], "properties": {"key": {"$ref": "#/components/schemas/ApiKey"},
            "secret": {"type": "string", "description": "Shown once; only its hash is stored."}}},
          "CreateKey": {"type": "object", "additionalProperties": false, "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100}}},
          "PricePlan": {"type": "object", "required": ["id", "name", "currency"], "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
            "currency": {"type": "string"}, "cpu_core_hour_micros": {"type": "integer"}, "memory_gb_hour_micros": {"type": "integer"},
            "disk_gb_hour_micros": {"type": "integer"}, "workspace_hour_micros": {"type": "integer"},
            "versions": {"type": "array", "description": "The plan's prices over time, oldest first; effective_from null is since always. The four prices above are the ones in force now.",
              "items": {"type": "object", "required": ["cpu_core_hour_micros", "memory_gb_hour_micros", "disk_gb_hour_micros", "workspace_hour_micros"],
                "properties": {"effective_from": {"type": ["string", "null"], "format": "date-time"}, "cpu_core_hour_micros": {"type": "integer"}, "memory_gb_hour_micros": {"type": "integer"},
                  "disk_gb_hour_micros": {"type": "integer"}, "workspace_hour_micros": {"type": "integer"}}}}}},
          "PricePlanVersion": {"type": "object", "required": ["effective_from"], "additionalProperties": false, "properties": {
            "effective_from": {"type": "string", "format": "date-time", "description": "Now or later: a period already billed is never rated again."},
            "cpu_core_hour_micros": {"type": "integer", "minimum": 0, "maximum": 1000000000000}, "memory_gb_hour_micros": {"type": "integer", "minimum": 0, "maximum": 1000000000000},
            "disk_gb_hour_micros": {"type": "integer", "minimum": 0, "maximum": 1000000000000}, "workspace_hour_micros": {"type": "integer", "minimum": 0, "maximum": 1000000000000}}},
          "BillingSummary": {"type": "object", "required": ["period", "tenants"], "properties": {
            "period": {"type": "object", "required": ["from", "to"], "properties": {"from": {"type": "string", "format": "date-time"}, "to": {"type": "string", "format": "date-time"}}},
            "tenants": {"type": "array", "items": {"type": "object", "required": ["tenant_id", "tenant_name", "currency", "lines", "seconds", "cost"], "properties": {
              "tenant_id": {"type": "string", "format": "uuid"}, "tenant_name": {"type": "string"}, "currency": {"type": "string"}, "lines": {"type": "integer", "minimum": 0},
              "seconds": {"type": "number", "minimum": 0},
              "cost": {"type": "object", "required": ["micros", "amount"], "properties": {"micros": {"type": "integer"}, "amount": {"type": "string"}}}}}}}},
          "PricePlanPage": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/PricePlan"}}}},
          "CreatePricePlan": {"type": "object", "required": ["name"], "additionalProperties": false, "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}, "cpu_core_hour_micros": {"type": "integer", "minimum": 0}, "memory_gb_hour_micros": {"type": "integer", "minimum": 0},
            "disk_gb_hour_micros": {"type": "integer", "minimum": 0}, "workspace_hour_micros": {"type": "integer", "minimum": 0}}},
          "AuditEvent": {"type": "object", "required": ["id", "actor_type", "action", "details", "created_at"],
            "properties": {"id": {"type": "integer"}, "tenant_id": {"type": ["string", "null"]}, "actor_type": {"enum": ["admin", "tenant", "system"]},
              "actor_id": {"type": ["string", "null"]}, "action": {"type": "string"}, "target_type": {"type": ["string", "null"]}, "target_id": {"type": ["string", "null"]},
              "details": {"type": "object", "additionalProperties": {"type": "string"}}, "created_at": {"type": "string", "format": "date-time"}}},
          "AuditPage": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEvent"}}, "next_cursor": {"type": ["string", "null"]}}},
          "DryRun": {"type": "object", "required": ["strategy", "servers"], "properties": {"strategy": {"type": "string"},
            "chosen": {"type": ["object", "null"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
            "would_fail": {"type": ["string", "null"], "enum": ["insufficient_capacity", "no_healthy_servers", null]},
            "servers": {"type": "array", "items": {"type": "object", "required": ["server", "outcome", "reasons"], "properties": {
              "server": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}, "outcome": {"enum": ["candidate", "excluded"]},
              "rank": {"type": ["integer", "null"]}, "score": {"type": ["number", "null"]}, "reasons": {"type": "array", "items": {"type": "string"}}}}}}},
          "WorkspacePage": {
            "type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Workspace"}}, "next_cursor": {"type": ["string", "null"]}}
          },
          "UsagePeriod": {
            "type": "object", "required": ["from", "to"], "additionalProperties": false,
            "description": "The half-open period [from, to).",
            "properties": {"from": {"type": "string", "format": "date-time"}, "to": {"type": "string", "format": "date-time"}}
          },
          "UsageQuantities": {
            "type": "object", "required": ["seconds", "cpu_core_hours", "memory_gb_hours", "disk_gb_hours", "workspace_hours"], "additionalProperties": false,
            "properties": {
              "seconds": {"type": "number", "minimum": 0, "description": "Running time, to the microsecond."},
              "cpu_core_hours": {"type": "number", "minimum": 0},
              "memory_gb_hours": {"type": "number", "minimum": 0, "description": "memory_mb / 1024 times hours."},
              "disk_gb_hours": {"type": "number", "minimum": 0},
              "workspace_hours": {"type": "number", "minimum": 0}
            }
          },
          "Cost": {
            "type": "object", "required": ["micros", "amount"], "additionalProperties": false,
            "properties": {
              "micros": {"type": "integer", "minimum": 0, "description": "Millionths of the currency unit."},
              "amount": {"type": "string", "pattern": "^[0-9]+\\.[0-9]{6}$", "description": "The same amount in the currency unit, exact."}
            }
          },
          "UsageReport": {
            "type": "object", "required": ["period", "measured_at", "currency", "price_plan", "totals", "cost", "workspaces"], "additionalProperties": false,
            "properties": {
              "period": {"$ref": "#/components/schemas/UsagePeriod"},
              "measured_at": {"type": "string", "format": "date-time", "description": "Running workspaces are counted up to here or to the period's end, whichever is first."},
              "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
              "price_plan": {
                "type": ["object", "null"], "additionalProperties": false,
                "required": ["id", "name", "cpu_core_hour_micros", "memory_gb_hour_micros", "disk_gb_hour_micros", "workspace_hour_micros"],
                "properties": {
                  "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
                  "cpu_core_hour_micros": {"type": "integer", "minimum": 0}, "memory_gb_hour_micros": {"type": "integer", "minimum": 0},
                  "disk_gb_hour_micros": {"type": "integer", "minimum": 0}, "workspace_hour_micros": {"type": "integer", "minimum": 0}
                }
              },
              "totals": {"$ref": "#/components/schemas/UsageQuantities"},
              "cost": {"$ref": "#/components/schemas/Cost"},
              "workspaces": {
                "type": "array", "description": "Workspaces that ran in the period, by name; their costs add up to the total.",
                "items": {
                  "type": "object", "required": ["id", "name", "usage", "cost"], "additionalProperties": false,
                  "properties": {
                    "id": {"type": "string", "format": "uuid"}, "name": {"type": "string"},
                    "usage": {"$ref": "#/components/schemas/UsageQuantities"}, "cost": {"$ref": "#/components/schemas/Cost"}
                  }
                }
              }
            }
          },
          "UsageExport": {
            "type": "object", "required": ["period", "rows"], "additionalProperties": false,
            "properties": {
              "period": {"$ref": "#/components/schemas/UsagePeriod"},
              "rows": {
                "type": "array",
                "items": {
                  "type": "object", "additionalProperties": false,
                  "required": ["tenant_id", "workspace_id", "workspace_name", "server_name", "started_at", "ended_at", "seconds", "cpu",
                               "memory_mb", "disk_gb", "currency", "cost_micros"],
                  "properties": {
                    "tenant_id": {"type": "string", "format": "uuid"},
                    "workspace_id": {"type": "string", "format": "uuid"},
                    "workspace_name": {"type": "string"},
                    "server_name": {"type": ["string", "null"]},
                    "started_at": {"type": "string", "format": "date-time"},
                    "ended_at": {"type": "string", "format": "date-time"},
                    "seconds": {"type": "number", "minimum": 0},
                    "cpu": {"type": "number", "minimum": 0},
                    "memory_mb": {"type": "integer", "minimum": 0},
                    "disk_gb": {"type": "integer", "minimum": 0},
                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                    "cost_micros": {"type": "integer", "minimum": 0}
                  }
                }
              }
            }
          }
        },
        "responses": {
          "Error": {"description": "An error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Workspace": {"description": "The workspace", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Workspace"}}}},
          "CreatedWorkspace": {"description": "The workspace", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Workspace"}}},
            "links": {
              "GetWorkspace": {"operationId": "getWorkspace", "parameters": {"id": "$response.body#/id"}},
              "StopWorkspace": {"operationId": "stopWorkspace", "parameters": {"id": "$response.body#/id"}},
              "RestartWorkspace": {"operationId": "restartWorkspace", "parameters": {"id": "$response.body#/id"}},
              "ResizeWorkspace": {"operationId": "resizeWorkspace", "parameters": {"id": "$response.body#/id"}},
              "WorkspaceHealth": {"operationId": "workspaceHealth", "parameters": {"id": "$response.body#/id"}},
              "WorkspaceActivity": {"operationId": "workspaceActivity", "parameters": {"id": "$response.body#/id"}},
              "RetryClone": {"operationId": "retryClone", "parameters": {"id": "$response.body#/id"}},
              "DeleteWorkspace": {"operationId": "deleteWorkspace", "parameters": {"id": "$response.body#/id"}}}}
        },
        "parameters": {
          "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
          "limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}
        }
      },
      "paths": {
        "/health": {"get": {"summary": "The process is alive", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}}}},
        "/ready": {"get": {"summary": "The database answers and migrations are current", "responses": {
          "200": {"description": "ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}},
          "503": {"$ref": "#/components/responses/Error"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics: HTTP requests, and the fleet's servers, workspaces and capacity", "responses": {"200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}},
          "503": {"$ref": "#/components/responses/Error"}}}},
        "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/v1/workspaces": {
          "post": {
            "operationId": "createWorkspace",
            "summary": "Create a workspace: 202 once placed; with wait=running, 201 once it is running or has failed; with wait=ready, once its repository is cloned too or has failed (202 if the timeout passes first)",
            "security": [{"apiKey": []}],
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "minLength": 1, "maxLength": 255}},
              {"name": "wait", "in": "query", "required": false, "schema": {"enum": ["running", "ready"]}},
              {"name": "timeout", "in": "query", "required": false, "description": "Seconds to wait, with wait (default 120)", "schema": {"type": "integer", "minimum": 1, "maximum": 600}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateWorkspace"}}}},
            "responses": {"201": {"$ref": "#/components/responses/CreatedWorkspace"}, "202": {"$ref": "#/components/responses/CreatedWorkspace"}, "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}
          },
          "get": {
            "operationId": "listWorkspaces",
            "summary": "List workspaces, newest first",
            "security": [{"apiKey": []}],
            "parameters": [
              {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
              {"name": "cursor", "in": "query", "schema": {"type": "string"}},
              {"name": "status", "in": "query", "schema": {"enum": ["pending", "creating", "starting", "running", "stopping", "stopped", "deleting", "deleted", "error"]}},
              {"name": "label", "in": "query", "schema": {"type": "string", "pattern": "^[^=]+=.*$"}}],
            "responses": {"200": {"description": "A page", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WorkspacePage"}}}},
              "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/v1/workspaces/{id}": {
          "parameters": [{"$ref": "#/components/parameters/id"}],
          "get": {"operationId": "getWorkspace", "summary": "One workspace", "security": [{"apiKey": []}], "responses": {"200": {"$ref": "#/components/responses/Workspace"},
            "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
          "delete": {"operationId": "deleteWorkspace", "summary": "Delete a workspace", "security": [{"apiKey": []}], "responses": {"204": {"description": "Deleted"},
            "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
            "502": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/workspaces/{id}/start": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "startWorkspace", "summary": "Start a stopped workspace", "security": [{"apiKey": []}],
          "responses": {"200": {"$ref": "#/components/responses/Workspace"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}, "502": {"$ref": "#/components/responses/Error"}}}},
        "/v1/workspaces/{id}/stop": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "stopWorkspace", "summary": "Stop a workspace", "security": [{"apiKey": []}],
          "responses": {"200": {"$ref": "#/components/responses/Workspace"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}, "502": {"$ref": "#/components/responses/Error"}}}},
        "/v1/usage": {
          "get": {
            "operationId": "usage",
            "summary": "Usage and cost over a period, in total and per workspace",
            "security": [{"apiKey": []}],
            "parameters": [
              {"name": "from", "in": "query", "required": false, "description": "RFC 3339; default: the start of the UTC month that `to` falls in.",
               "schema": {"type": "string", "format": "date-time"}},
              {"name": "to", "in": "query", "required": false, "description": "RFC 3339, exclusive; default: now. At most 366 days after `from`.",
               "schema": {"type": "string", "format": "date-time"}}],
            "responses": {"200": {"description": "The report", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UsageReport"}}}},
              "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/v1/usage/export": {
          "get": {
            "operationId": "usageExport",
            "summary": "One row per usage interval clipped to the period, as CSV or JSON",
            "security": [{"apiKey": []}],
            "parameters": [
              {"name": "from", "in": "query", "required": true, "description": "RFC 3339.", "schema": {"type": "string", "format": "date-time"}},
              {"name": "to", "in": "query", "required": true, "description": "RFC 3339, exclusive; at most 366 days after `from`.",
               "schema": {"type": "string", "format": "date-time"}},
              {"name": "format", "in": "query", "required": false, "schema": {"enum": ["csv", "json"], "default": "json"}}],
            "responses": {
              "200": {"description": "The export, as an attachment",
                "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UsageExport"}},
                            "text/csv": {"schema": {"type": "string"}}}},
              "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}}
          }
        },
        "/v1/workspaces/{id}/restart": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "restartWorkspace", "summary": "Restart a running workspace", "security": [{"apiKey": []}],
          "responses": {"200": {"$ref": "#/components/responses/Workspace"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}, "502": {"$ref": "#/components/responses/Error"}}}},
        "/v1/workspaces/{id}/resize": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "resizeWorkspace",
          "summary": "Change CPU and memory of a running or stopped workspace in place (disk cannot change)", "security": [{"apiKey": []}],
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ResizeWorkspace"}}}},
          "responses": {"200": {"$ref": "#/components/responses/Workspace"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
            "413": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}, "502": {"$ref": "#/components/responses/Error"}}}},
        "/v1/workspaces/{id}/health": {"parameters": [{"$ref": "#/components/parameters/id"}], "get": {"operationId": "workspaceHealth",
          "summary": "The container as its engine sees it now", "security": [{"apiKey": []}],
          "responses": {"200": {"description": "The report", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WorkspaceHealth"}}}},
            "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
        "/v1/workspaces/{id}/git/retry": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "retryClone",
          "summary": "Clone a repository whose clone failed again; 202 with the workspace, its repository pending", "security": [{"apiKey": []}],
          "responses": {"202": {"$ref": "#/components/responses/Workspace"}, "401": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
        "/v1/workspaces/{id}/activity": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "workspaceActivity",
          "summary": "Record that the workspace is in use (for idle detection)", "security": [{"apiKey": []}],
          "responses": {"200": {"description": "Recorded", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Activity"}}}},
            "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
        "/admin/servers": {"get": {"operationId": "listServers", "summary": "Every workspace server", "security": [{"adminToken": []}], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServerPage"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}, "post": {"operationId": "addServer", "summary": "Add a server: validated, then connected to once", "security": [{"adminToken": []}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateServer"}}}}, "responses": {"201": {"description": "Added", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServerAdded"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/servers/{id}": {"parameters": [{"$ref": "#/components/parameters/id"}], "get": {"operationId": "getServer", "summary": "A server and its workspaces", "security": [{"adminToken": []}], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServerDetail"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}, "patch": {"operationId": "updateServer", "summary": "Change capacity or labels", "security": [{"adminToken": []}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UpdateServer"}}}}, "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Server"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}, "delete": {"operationId": "removeServer", "summary": "Remove a server that holds no workspaces", "security": [{"adminToken": []}], "responses": {"204": {"description": "Removed"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/servers/{id}/stats": {"parameters": [{"$ref": "#/components/parameters/id"}], "get": {"operationId": "serverStats", "summary": "Live figures from Docker beside the reservations", "security": [{"adminToken": []}], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServerStats"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/servers/{id}/cordon": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "cordonServer", "summary": "Stop placing new workspaces here", "security": [{"adminToken": []}], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServerScheduled"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/servers/{id}/uncordon": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "uncordonServer", "summary": "Place workspaces here again", "security": [{"adminToken": []}], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServerScheduled"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/servers/{id}/drain": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "drainServer", "summary": "Cordon and move every workspace off, running or stopped, until empty or the deadline", "security": [{"adminToken": []}], "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DrainServer"}}}}, "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServerScheduled"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}},
          "get": {"operationId": "drainProgress", "summary": "How the drain goes: moved, remaining, failures with reasons", "security": [{"adminToken": []}], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DrainProgress"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/cluster": {"get": {"operationId": "cluster", "summary": "Totals, reservations and observed usage; servers and workspaces by status", "security": [{"adminToken": []}], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Cluster"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/workspaces": {"get": {"operationId": "adminListWorkspaces", "summary": "Every tenant's workspaces, newest first", "security": [{"adminToken": []}], "parameters": [{"$ref": "#/components/parameters/limit"}, {"name": "cursor", "in": "query", "schema": {"type": "string"}}, {"name": "server", "in": "query", "schema": {"type": "string", "format": "uuid"}}, {"name": "tenant", "in": "query", "schema": {"type": "string", "format": "uuid"}}, {"name": "status", "in": "query", "schema": {"enum": ["pending", "creating", "starting", "running", "stopping", "stopped", "deleting", "deleted", "error"]}}], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AdminWorkspacePage"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/tenants": {"get": {"operationId": "listTenants", "summary": "Tenants by name", "security": [{"adminToken": []}], "parameters": [{"$ref": "#/components/parameters/limit"}, {"name": "cursor", "in": "query", "schema": {"type": "string"}}], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TenantPage"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}, "post": {"operationId": "createTenant", "summary": "Create a tenant", "security": [{"adminToken": []}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateTenant"}}}}, "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Tenant"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/tenants/{id}": {"parameters": [{"$ref": "#/components/parameters/id"}], "get": {"operationId": "getTenant", "summary": "A tenant and its keys", "security": [{"adminToken": []}], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TenantDetail"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}, "patch": {"operationId": "updateTenant", "summary": "Status, quota and price plan", "security": [{"adminToken": []}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UpdateTenant"}}}}, "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Tenant"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/tenants/{id}/api-keys": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "issueKey", "summary": "Issue an API key; the secret is in this response only", "security": [{"adminToken": []}], "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateKey"}}}}, "responses": {"201": {"description": "Issued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IssuedKey"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/tenants/{id}/api-keys/{key_id}": {"parameters": [{"$ref": "#/components/parameters/id"}, {"name": "key_id", "in": "path", "required": true, "schema": {"type": "string"}}], "delete": {"operationId": "revokeKey", "summary": "Revoke a key", "security": [{"adminToken": []}], "responses": {"204": {"description": "Revoked"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/price-plans": {"get": {"operationId": "listPricePlans", "summary": "Price plans", "security": [{"adminToken": []}], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PricePlanPage"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}, "post": {"operationId": "createPricePlan", "summary": "Create a price plan (prices in millionths of the currency per hour)", "security": [{"adminToken": []}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreatePricePlan"}}}}, "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PricePlan"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/price-plans/{id}/versions": {"post": {"operationId": "addPricePlanVersion", "summary": "New prices for a plan from a moment that has not passed", "security": [{"adminToken": []}], "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PricePlanVersion"}}}}, "responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PricePlan"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/audit": {"get": {"operationId": "audit", "summary": "The audit log, newest first", "security": [{"adminToken": []}], "parameters": [{"$ref": "#/components/parameters/limit"}, {"name": "cursor", "in": "query", "schema": {"type": "string", "pattern": "^[1-9][0-9]{0,17}$"}}, {"name": "actor", "in": "query", "schema": {"type": "string"}}, {"name": "action", "in": "query", "schema": {"type": "string", "minLength": 1, "maxLength": 100}}, {"name": "tenant", "in": "query", "schema": {"type": "string", "format": "uuid"}}, {"name": "from", "in": "query", "schema": {"type": "string", "format": "date-time"}}, {"name": "to", "in": "query", "schema": {"type": "string", "format": "date-time"}}], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AuditPage"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/placement/dry-run": {"post": {"operationId": "placementDryRun", "summary": "Where a workspace would go and why, reserving nothing", "security": [{"adminToken": []}], "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateWorkspace"}}}}, "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DryRun"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/tenants/{id}/usage/export": {"parameters": [{"$ref": "#/components/parameters/id"}], "get": {"operationId": "adminTenantUsageExport",
          "summary": "One tenant's usage intervals clipped to the period, rated with its plan", "security": [{"adminToken": []}],
          "parameters": [{"name": "from", "in": "query", "required": true, "schema": {"type": "string", "format": "date-time"}},
              {"name": "to", "in": "query", "required": true, "schema": {"type": "string", "format": "date-time"}},
              {"name": "format", "in": "query", "required": false, "schema": {"enum": ["csv", "json"], "default": "json"}}],
          "responses": {"200": {"description": "The export, as an attachment", "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UsageExport"}}, "text/csv": {"schema": {"type": "string"}}}},
              "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
              "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/billing/summary": {"get": {"operationId": "billingSummary", "summary": "Per tenant: the total for the period, its currency and its export's line count", "security": [{"adminToken": []}],
          "parameters": [{"name": "from", "in": "query", "required": true, "schema": {"type": "string", "format": "date-time"}}, {"name": "to", "in": "query", "required": true, "schema": {"type": "string", "format": "date-time"}}],
          "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BillingSummary"}}}}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/admin/billing/export": {"get": {"operationId": "billingExport", "summary": "Every tenant's usage intervals clipped to the period, rated", "security": [{"adminToken": []}],
          "parameters": [{"name": "from", "in": "query", "required": true, "schema": {"type": "string", "format": "date-time"}},
              {"name": "to", "in": "query", "required": true, "schema": {"type": "string", "format": "date-time"}},
              {"name": "format", "in": "query", "required": false, "schema": {"enum": ["csv", "json"], "default": "json"}}],
          "responses": {"200": {"description": "The export, as an attachment", "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UsageExport"}}, "text/csv": {"schema": {"type": "string"}}}},
              "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"},
              "503": {"$ref": "#/components/responses/Error"}}}}
      }
    }
    """#
}
