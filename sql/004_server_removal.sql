-- Removing a server keeps its row (workspaces, usage and audit history point at it) and marks it
-- removed; its name is then free for a new server.
ALTER TABLE workspace_servers ADD COLUMN removed_at timestamptz;
ALTER TABLE workspace_servers DROP CONSTRAINT workspace_servers_name_key;
CREATE UNIQUE INDEX workspace_servers_live_name_idx ON workspace_servers (name) WHERE removed_at IS NULL;
