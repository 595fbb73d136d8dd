-- One writer per workspace (DESIGN.md, "The lifecycle model"). Each row holds what is wanted
-- (desired_status and the size in cpu/memory_mb) with a generation that every change of the wanted
-- state increments, what was last applied (observed_generation, applied_*), and a lease naming the
-- one actor (a request's task or the reconciler) allowed to act on Docker for it. An actor records an
-- outcome only while the generation is still the one it acted on and it still holds the lease.
ALTER TABLE workspaces
    ADD COLUMN desired_status text NOT NULL DEFAULT 'running' CHECK (desired_status IN ('running', 'stopped', 'deleted')),
    ADD COLUMN generation bigint NOT NULL DEFAULT 1 CHECK (generation >= 1),
    ADD COLUMN observed_generation bigint NOT NULL DEFAULT 0 CHECK (observed_generation >= 0),
    -- A restart asked at this generation is pending while observed_generation is below it.
    ADD COLUMN restart_generation bigint NOT NULL DEFAULT 0,
    -- The limits the container has, as Docker confirmed them (create or update).
    ADD COLUMN applied_cpu numeric(10, 3),
    ADD COLUMN applied_memory_mb bigint,
    -- What this workspace holds of its server's CPU and memory reservation right now. The server's
    -- current_cpu_used and current_memory_used_mb are the sums of these (and disk and the slot of the
    -- workspaces with holds_slot); the reconciler checks that they are.
    ADD COLUMN held_cpu numeric(10, 3) NOT NULL DEFAULT 0 CHECK (held_cpu >= 0),
    ADD COLUMN held_memory_mb bigint NOT NULL DEFAULT 0 CHECK (held_memory_mb >= 0),
    ADD COLUMN actor text,
    ADD COLUMN actor_until timestamptz,
    -- error is what the tenant sees (generic); error_code names the case; error_detail is for admins
    -- and logs only (it may name an engine's address).
    ADD COLUMN error_code text,
    ADD COLUMN error_detail text;

UPDATE workspaces SET
    desired_status = CASE
        WHEN status IN ('stopped', 'stopping') THEN 'stopped'
        WHEN status IN ('deleted', 'deleting') THEN 'deleted'
        ELSE 'running' END,
    observed_generation = CASE WHEN status IN ('running', 'stopped', 'deleted', 'error') THEN 1 ELSE 0 END,
    applied_cpu = CASE WHEN container_id IS NOT NULL THEN cpu END,
    applied_memory_mb = CASE WHEN container_id IS NOT NULL THEN memory_mb END,
    held_cpu = CASE WHEN holds_compute THEN cpu ELSE 0 END,
    held_memory_mb = CASE WHEN holds_compute THEN memory_mb ELSE 0 END;

-- holds_compute is now what the amounts say.
ALTER TABLE workspaces DROP COLUMN holds_compute;
ALTER TABLE workspaces ADD COLUMN holds_compute boolean GENERATED ALWAYS AS (held_cpu > 0 OR held_memory_mb > 0) STORED;

-- The reconciler's work lists: intents not yet applied, and what runs per server.
DROP INDEX workspaces_transient_idx;
CREATE INDEX workspaces_pending_idx ON workspaces (updated_at) WHERE observed_generation < generation;

-- Which Berth deployment a container belongs to. Containers carry it as the label berth.deployment,
-- so the orphan sweep never touches another deployment's containers on a shared engine.
CREATE TABLE deployment (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO deployment DEFAULT VALUES;
GRANT SELECT ON deployment TO berth_app;

-- A server offline for longer than the lost period: when the reconciler gave its workspaces up.
ALTER TABLE workspace_servers ADD COLUMN lost_at timestamptz;

-- Workspaces share the host's network only where an admin says so: isolated is the default.
ALTER TABLE workspace_servers ALTER COLUMN network_mode SET DEFAULT 'none';
UPDATE workspace_servers SET network_mode = 'none' WHERE network_mode = 'host';
