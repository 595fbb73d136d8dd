/// The OpenAPI 3.1 description of every route that exists, with schemas for bodies and errors.
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {"title": "Berth", "version": "0.1.0", "description": "Multi-tenant workspace orchestration on Docker Engines."},
      "servers": [{"url": "/"}],
      "components": {
        "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "A tenant API key (berth_<prefix>_<secret>)."}},
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
              "repository": {"type": ["object", "null"], "description": "Not supported yet: refused with 422."},
              "placement": {"type": ["object", "null"], "additionalProperties": false, "properties": {
                "strategy": {"enum": ["spread", "best_fit", "affinity", "round_robin"]},
                "preferred_server": {"type": ["string", "null"]},
                "soft": {"type": "boolean"},
                "constraints": {"type": ["object", "null"]}}}
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
              "repository": {"type": ["object", "null"]},
              "labels": {"type": "object", "additionalProperties": {"type": "string"}},
              "created_at": {"type": "string", "format": "date-time"},
              "started_at": {"type": ["string", "null"], "format": "date-time"},
              "stopped_at": {"type": ["string", "null"], "format": "date-time"},
              "error": {"type": ["string", "null"]}
            }
          },
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
          "Workspace": {"description": "The workspace", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Workspace"}}}}
        },
        "parameters": {
          "id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
        }
      },
      "paths": {
        "/health": {"get": {"summary": "The process is alive", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}}}},
        "/ready": {"get": {"summary": "The database answers and migrations are current", "responses": {
          "200": {"description": "ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}},
          "503": {"$ref": "#/components/responses/Error"}}}},
        "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/v1/workspaces": {
          "post": {
            "summary": "Create a workspace; answers once it is running or has failed",
            "security": [{"apiKey": []}],
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "minLength": 1, "maxLength": 255}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateWorkspace"}}}},
            "responses": {"201": {"$ref": "#/components/responses/Workspace"}, "400": {"$ref": "#/components/responses/Error"},
              "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
              "413": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}
          },
          "get": {
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
          "get": {"summary": "One workspace", "security": [{"apiKey": []}], "responses": {"200": {"$ref": "#/components/responses/Workspace"},
            "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}},
          "delete": {"summary": "Delete a workspace", "security": [{"apiKey": []}], "responses": {"204": {"description": "Deleted"},
            "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
            "502": {"$ref": "#/components/responses/Error"}}}
        },
        "/v1/workspaces/{id}/start": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"summary": "Start a stopped workspace", "security": [{"apiKey": []}],
          "responses": {"200": {"$ref": "#/components/responses/Workspace"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "409": {"$ref": "#/components/responses/Error"}, "502": {"$ref": "#/components/responses/Error"}}}},
        "/v1/workspaces/{id}/stop": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"summary": "Stop a workspace", "security": [{"apiKey": []}],
          "responses": {"200": {"$ref": "#/components/responses/Workspace"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "409": {"$ref": "#/components/responses/Error"}, "502": {"$ref": "#/components/responses/Error"}}}},
        "/v1/usage": {
          "get": {
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
        "/v1/workspaces/{id}/restart": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"summary": "Restart a running workspace", "security": [{"apiKey": []}],
          "responses": {"200": {"$ref": "#/components/responses/Workspace"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "409": {"$ref": "#/components/responses/Error"}, "502": {"$ref": "#/components/responses/Error"}}}}
      }
    }
    """#
}
