-- The scaling service: moves between servers, drains, idle stop and lifetimes, quotas on disk.

-- A move is one more intent of the lifecycle model: the server a workspace should move to, and
-- what is reserved there for it until the move is recorded (or undone). Its outcome lands behind
-- the same generation fence as every other change.
ALTER TABLE workspaces
    ADD COLUMN move_to_server_id uuid REFERENCES workspace_servers (id),
    ADD COLUMN move_held_cpu numeric(10, 3) NOT NULL DEFAULT 0 CHECK (move_held_cpu >= 0),
    ADD COLUMN move_held_memory_mb bigint NOT NULL DEFAULT 0 CHECK (move_held_memory_mb >= 0),
    ADD COLUMN move_holds_slot boolean NOT NULL DEFAULT false,
    -- Why it moves (resize, drain) and how the last attempt that failed ended.
    ADD COLUMN move_reason text,
    ADD COLUMN move_error text,
    ADD COLUMN move_attempts integer NOT NULL DEFAULT 0,
    -- Idle stop and lifetime in minutes (fractions allowed), overriding the tenant's (0: never).
    ADD COLUMN idle_stop_minutes numeric(12, 3) CHECK (idle_stop_minutes BETWEEN 0 AND 525600),
    ADD COLUMN max_lifetime_minutes numeric(12, 3) CHECK (max_lifetime_minutes BETWEEN 0 AND 5256000),
    -- When its container was last seen using more CPU than the idle threshold.
    ADD COLUMN last_busy_at timestamptz,
    ADD CONSTRAINT workspaces_move_target CHECK (move_to_server_id IS NULL OR move_to_server_id IS DISTINCT FROM server_id);

ALTER TABLE tenants
    ADD COLUMN idle_stop_minutes numeric(12, 3) CHECK (idle_stop_minutes BETWEEN 0 AND 525600),
    ADD COLUMN max_lifetime_minutes numeric(12, 3) CHECK (max_lifetime_minutes BETWEEN 0 AND 5256000),
    -- Slots and disk count for every workspace that exists, stopped or not.
    ADD COLUMN max_disk_gb bigint NOT NULL DEFAULT 200 CHECK (max_disk_gb >= 0);

ALTER TABLE workspace_servers
    ADD COLUMN drain_started_at timestamptz,
    ADD COLUMN drain_deadline timestamptz,
    ADD COLUMN drain_moved integer NOT NULL DEFAULT 0;

-- What each workspace holds on which server: its own server's holds, and a move's on its target.
-- Every server's current_* columns must equal the sums of this (the reconciler corrects drift).
CREATE VIEW server_holds WITH (security_invoker = true) AS
    SELECT server_id, held_cpu AS cpu, held_memory_mb AS memory_mb,
           CASE WHEN holds_slot THEN disk_gb ELSE 0 END AS disk_gb, CASE WHEN holds_slot THEN 1 ELSE 0 END AS slots
    FROM workspaces WHERE server_id IS NOT NULL
    UNION ALL
    SELECT move_to_server_id, move_held_cpu, move_held_memory_mb,
           CASE WHEN move_holds_slot THEN disk_gb ELSE 0 END, CASE WHEN move_holds_slot THEN 1 ELSE 0 END
    FROM workspaces WHERE move_to_server_id IS NOT NULL;
GRANT SELECT ON server_holds TO berth_app;

-- The tenant may read its own settings (the workspace view shows its idle deadline).
GRANT SELECT ON tenants TO berth_tenant;

-- The scale-out or scale-in last recommended to the webhook, and how telling it went. One row per
-- signal; a change of recommendation is claimed by one replica with a conditional update.
CREATE TABLE scaling_signals (
    name text PRIMARY KEY,
    recommendation text NOT NULL CHECK (recommendation IN ('none', 'scale_out', 'scale_in')),
    changed_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    delivered_at timestamptz,
    last_error text
);
GRANT SELECT, INSERT, UPDATE ON scaling_signals TO berth_app;
