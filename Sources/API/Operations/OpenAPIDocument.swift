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
          "ResizeWorkspace": {
            "type": "object", "required": ["resources"], "additionalProperties": false,
            "properties": {"resources": {"$ref": "#/components/schemas/Resources"}}
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
          "WorkspacePage": {
            "type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Workspace"}}, "next_cursor": {"type": ["string", "null"]}}
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
              "DeleteWorkspace": {"operationId": "deleteWorkspace", "parameters": {"id": "$response.body#/id"}}}}
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
            "operationId": "createWorkspace",
            "summary": "Create a workspace: 202 once placed; with wait=running, 201 once it is running or has failed (202 if the timeout passes first)",
            "security": [{"apiKey": []}],
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "minLength": 1, "maxLength": 255}},
              {"name": "wait", "in": "query", "required": false, "schema": {"enum": ["running"]}},
              {"name": "timeout", "in": "query", "required": false, "description": "Seconds to wait, with wait=running (default 120)", "schema": {"type": "integer", "minimum": 1, "maximum": 600}}],
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
            "409": {"$ref": "#/components/responses/Error"}, "502": {"$ref": "#/components/responses/Error"}}}},
        "/v1/workspaces/{id}/stop": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "stopWorkspace", "summary": "Stop a workspace", "security": [{"apiKey": []}],
          "responses": {"200": {"$ref": "#/components/responses/Workspace"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "409": {"$ref": "#/components/responses/Error"}, "502": {"$ref": "#/components/responses/Error"}}}},
        "/v1/workspaces/{id}/restart": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "restartWorkspace", "summary": "Restart a running workspace", "security": [{"apiKey": []}],
          "responses": {"200": {"$ref": "#/components/responses/Workspace"}, "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "409": {"$ref": "#/components/responses/Error"}, "502": {"$ref": "#/components/responses/Error"}}}},
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
        "/v1/workspaces/{id}/activity": {"parameters": [{"$ref": "#/components/parameters/id"}], "post": {"operationId": "workspaceActivity",
          "summary": "Record that the workspace is in use (for idle detection)", "security": [{"apiKey": []}],
          "responses": {"200": {"description": "Recorded", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Activity"}}}},
            "401": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}}
      }
    }
    """#
}
