-- The git setup service: what to clone into a workspace, the sealed token, and where the clone stands.
-- repository_url, repository_branch, repository_token_sealed, git_status and git_error exist since 001.
ALTER TABLE workspaces
    ADD COLUMN repository_commit text,
    ADD COLUMN repository_depth integer CHECK (repository_depth IS NULL OR repository_depth BETWEEN 1 AND 1000000),
    ADD COLUMN repository_submodules boolean NOT NULL DEFAULT false,
    ADD COLUMN repository_path text,
    ADD COLUMN repository_username text,
    -- Which key sealed the token (the first 8 hex digits of a digest of it, never the key).
    ADD COLUMN repository_token_key_id text,
    ADD COLUMN git_error_code text,
    ADD COLUMN git_attempts integer NOT NULL DEFAULT 0,
    -- A transient failure is tried again from then on.
    ADD COLUMN git_next_attempt_at timestamptz,
    -- While cloning: until when the attempt holds the clone; a clone cut off by a crash is taken up after.
    ADD COLUMN git_until timestamptz,
    ADD CONSTRAINT token_has_key_id CHECK (repository_token_sealed IS NULL OR repository_token_key_id IS NOT NULL);

CREATE INDEX workspaces_git_pending_idx ON workspaces (git_next_attempt_at) WHERE git_status IN ('pending', 'cloning');

-- A network of its own per workspace (a bridge with nothing else on it): what a clone needs, without
-- sharing the host's network or another workspace's.
ALTER TABLE workspace_servers DROP CONSTRAINT workspace_servers_network_mode_check;
ALTER TABLE workspace_servers ADD CONSTRAINT workspace_servers_network_mode_check CHECK (network_mode IN ('host', 'none', 'bridge', 'isolated'));
