-- Berth schema: tenants, keys, servers, workspaces, usage, prices, idempotency and audit.
-- Runs as the owner role. The login role (berth_app) and the NOLOGIN tenant role (berth_tenant)
-- are created by the set-up (scripts/postgres.sh), never here: creating roles needs more than ownership.

CREATE TABLE price_plans (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 100),
    currency char(3) NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    -- Prices in micro-units of the currency (1 EUR = 1 000 000), so rating stays in integers.
    cpu_core_hour_micros bigint NOT NULL DEFAULT 0 CHECK (cpu_core_hour_micros >= 0),
    memory_gb_hour_micros bigint NOT NULL DEFAULT 0 CHECK (memory_gb_hour_micros >= 0),
    disk_gb_hour_micros bigint NOT NULL DEFAULT 0 CHECK (disk_gb_hour_micros >= 0),
    workspace_hour_micros bigint NOT NULL DEFAULT 0 CHECK (workspace_hour_micros >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenants (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    max_workspaces integer NOT NULL DEFAULT 10 CHECK (max_workspaces >= 0),
    max_cpu numeric(10, 3) NOT NULL DEFAULT 8 CHECK (max_cpu >= 0),
    max_memory_mb bigint NOT NULL DEFAULT 16384 CHECK (max_memory_mb >= 0),
    price_plan_id uuid REFERENCES price_plans (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name text NOT NULL DEFAULT 'default' CHECK (char_length(name) BETWEEN 1 AND 100),
    -- Only the lookup prefix and the SHA-256 of the key: never the key.
    prefix text NOT NULL UNIQUE CHECK (prefix ~ '^[0-9a-f]{16}$'),
    key_hash bytea NOT NULL CHECK (octet_length(key_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at, id);

CREATE TABLE workspace_servers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$'),
    -- Connection
    host text NOT NULL CHECK (char_length(host) BETWEEN 1 AND 255),
    docker_port integer NOT NULL CHECK (docker_port BETWEEN 1 AND 65535),
    tls_enabled boolean NOT NULL DEFAULT false,
    cert_path text,
    socket_path text,
    -- Plain TCP to a non-loopback host is refused unless the admin marks the server insecure.
    insecure boolean NOT NULL DEFAULT false,
    network_mode text NOT NULL DEFAULT 'host' CHECK (network_mode IN ('host', 'none', 'bridge')),
    CONSTRAINT tls_needs_certs CHECK (NOT tls_enabled OR cert_path IS NOT NULL),
    -- Capacity, set by the admin
    total_cpu numeric(10, 3) NOT NULL CHECK (total_cpu > 0),
    total_memory_mb bigint NOT NULL CHECK (total_memory_mb > 0),
    total_disk_gb bigint NOT NULL CHECK (total_disk_gb >= 0),
    max_workspaces integer NOT NULL CHECK (max_workspaces > 0),
    -- Placement
    labels jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
    schedulable text NOT NULL DEFAULT 'active' CHECK (schedulable IN ('active', 'cordoned', 'draining')),
    -- Health, written by the monitor
    status text NOT NULL DEFAULT 'unhealthy' CHECK (status IN ('healthy', 'unhealthy', 'offline')),
    last_health_check timestamptz,
    last_healthy_at timestamptz,
    last_error text,
    consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    -- Committed reservations: what placement works from. The database refuses an overcommit.
    current_cpu_used numeric(10, 3) NOT NULL DEFAULT 0,
    current_memory_used_mb bigint NOT NULL DEFAULT 0,
    current_disk_used_gb bigint NOT NULL DEFAULT 0,
    current_workspaces integer NOT NULL DEFAULT 0,
    CONSTRAINT cpu_within_total CHECK (current_cpu_used >= 0 AND current_cpu_used <= total_cpu),
    CONSTRAINT memory_within_total CHECK (current_memory_used_mb >= 0 AND current_memory_used_mb <= total_memory_mb),
    CONSTRAINT disk_within_total CHECK (current_disk_used_gb >= 0 AND current_disk_used_gb <= total_disk_gb),
    CONSTRAINT workspaces_within_max CHECK (current_workspaces >= 0 AND current_workspaces <= max_workspaces),
    -- Usage observed by the health monitor
    observed_ncpu integer,
    observed_memory_total_mb bigint,
    observed_cpu_percent double precision,
    observed_memory_used_mb bigint,
    observed_containers integer,
    observed_containers_running integer,
    docker_version text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspace_servers_placement_idx ON workspace_servers (status, schedulable);

CREATE TABLE workspaces (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    name text NOT NULL CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN (
        'pending', 'creating', 'starting', 'running', 'stopping', 'stopped', 'deleting', 'deleted', 'error')),
    server_id uuid REFERENCES workspace_servers (id),
    container_id text,
    image text NOT NULL CHECK (char_length(image) BETWEEN 1 AND 255),
    cpu numeric(10, 3) NOT NULL CHECK (cpu > 0),
    memory_mb bigint NOT NULL CHECK (memory_mb > 0),
    disk_gb bigint NOT NULL CHECK (disk_gb >= 0),
    -- What is held on the server: CPU and memory while starting or running, disk and the slot while it exists.
    holds_compute boolean NOT NULL DEFAULT false,
    holds_slot boolean NOT NULL DEFAULT false,
    command jsonb CHECK (command IS NULL OR jsonb_typeof(command) = 'array'),
    env jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(env) = 'object'),
    labels jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
    placement jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(placement) = 'object'),
    repository_url text,
    repository_branch text,
    -- AES-256-GCM sealed with BERTH_SECRET_KEY; never plaintext.
    repository_token_sealed bytea,
    git_status text NOT NULL DEFAULT 'none' CHECK (git_status IN ('none', 'pending', 'cloning', 'ready', 'failed')),
    git_error text,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    stopped_at timestamptz,
    deleted_at timestamptz,
    last_activity_at timestamptz
);
-- A live name is unique per tenant; deleted workspaces free their name.
CREATE UNIQUE INDEX workspaces_tenant_name_live_idx ON workspaces (tenant_id, name) WHERE status <> 'deleted';
-- Keyset pagination per tenant, newest first.
CREATE INDEX workspaces_tenant_page_idx ON workspaces (tenant_id, created_at DESC, id DESC);
CREATE INDEX workspaces_tenant_status_idx ON workspaces (tenant_id, status, created_at DESC, id DESC);
CREATE INDEX workspaces_labels_idx ON workspaces USING gin (labels jsonb_path_ops);
CREATE INDEX workspaces_server_idx ON workspaces (server_id, status) WHERE status <> 'deleted';
-- The reconciler's work list.
CREATE INDEX workspaces_transient_idx ON workspaces (status, updated_at)
    WHERE status IN ('pending', 'creating', 'starting', 'stopping', 'deleting');

CREATE TABLE workspace_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    from_status text,
    to_status text NOT NULL,
    reason text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspace_events_workspace_idx ON workspace_events (tenant_id, workspace_id, id);

CREATE TABLE usage_intervals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    server_id uuid REFERENCES workspace_servers (id),
    cpu numeric(10, 3) NOT NULL CHECK (cpu >= 0),
    memory_mb bigint NOT NULL CHECK (memory_mb >= 0),
    disk_gb bigint NOT NULL CHECK (disk_gb >= 0),
    started_at timestamptz NOT NULL,
    ended_at timestamptz,
    checkpointed_at timestamptz,
    CONSTRAINT interval_ordered CHECK (ended_at IS NULL OR ended_at >= started_at)
);
-- At most one open interval per workspace.
CREATE UNIQUE INDEX usage_intervals_open_idx ON usage_intervals (workspace_id) WHERE ended_at IS NULL;
CREATE INDEX usage_intervals_tenant_period_idx ON usage_intervals (tenant_id, started_at, id);

CREATE TABLE idempotency_keys (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash text NOT NULL,
    state text NOT NULL DEFAULT 'in_progress' CHECK (state IN ('in_progress', 'completed')),
    response_status integer,
    response_body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

CREATE TABLE audit_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL for fleet-wide admin actions.
    tenant_id uuid REFERENCES tenants (id),
    actor_type text NOT NULL CHECK (actor_type IN ('admin', 'tenant', 'system')),
    actor_id text,
    action text NOT NULL CHECK (char_length(action) BETWEEN 1 AND 100),
    target_type text,
    target_id text,
    details jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_time_idx ON audit_events (created_at DESC, id DESC);
CREATE INDEX audit_events_tenant_idx ON audit_events (tenant_id, created_at DESC, id DESC);
CREATE INDEX audit_events_action_idx ON audit_events (action, created_at DESC, id DESC);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_type, actor_id, created_at DESC, id DESC);

-- Round-robin placement keeps its cursor here, so it is fair across replicas.
CREATE TABLE placement_cursors (
    name text PRIMARY KEY,
    position bigint NOT NULL DEFAULT 0
);
